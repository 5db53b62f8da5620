"""What every emulated service's HTTP edge shares: body limits, strict JSON decoding, journal-safe bodies."""
