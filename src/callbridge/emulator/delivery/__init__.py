"""Everything the local cloud sends out: callbacks and Event Grid, in order per destination, retried on the clock."""
