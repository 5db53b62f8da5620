// Tenant admin, integrations: Entra app registrations, Event Grid subscriptions and their dead letters.

import { control } from "./api.js";
import { h, onSubmit, render, say } from "./common/dom.js";

export function integrations(refresh) {
  const appList = document.getElementById("app-list");
  const appForm = document.getElementById("app-form");
  const appStatus = document.getElementById("apps-status");
  const subscriptionList = document.getElementById("subscription-list");
  const subscriptionForm = document.getElementById("subscription-form");
  const subscriptionStatus = document.getElementById("subscriptions-status");
  const deadLetterList = document.getElementById("dead-letter-list");
  const permissions = (text) => text.split(/[\s,]+/).filter(Boolean);

  onSubmit(appForm, appStatus, async (data) => {
    const app = await control.post("/entra/apps", {
      displayName: data.get("displayName").trim(),
      applicationPermissions: permissions(data.get("applicationPermissions")),
      delegatedPermissions: permissions(data.get("delegatedPermissions")),
    });
    appForm.reset();
    refresh();
    return `Registered ${app.displayName}: client id ${app.clientId}, client secret (shown once) ${app.clientSecret}`;
  });

  onSubmit(subscriptionForm, subscriptionStatus, async (data) => {
    const created = await control.post("/eventgrid/subscriptions", {
      name: data.get("name").trim(),
      endpoint: data.get("endpoint").trim(),
      schema: data.get("schema"),
    });
    subscriptionForm.reset();
    refresh();
    return `Subscribed ${created.name}: the endpoint passed the validation handshake.`;
  });

  const unsubscribe = async (name) => {
    try {
      await control.delete(`/eventgrid/subscriptions/${encodeURIComponent(name)}`);
      say(subscriptionStatus, `Removed ${name}.`);
    } catch (error) {
      say(subscriptionStatus, error.message, "error");
    }
    refresh();
  };

  return function update({ apps, subscriptions, deadLetters }) {
    render(appList, apps, () =>
      apps.map((app) =>
        h(
          "li",
          { class: "item stacked" },
          h("strong", {}, app.displayName),
          h("span", { class: "mono" }, app.clientId),
          h("span", { class: "hint" }, `application: ${app.applicationPermissions.join(", ") || "none"}`),
          h("span", { class: "hint" }, `delegated: ${app.delegatedPermissions.join(", ") || "none"}`),
        ),
      ),
    );
    render(subscriptionList, subscriptions, () =>
      subscriptions.map((subscription) =>
        h(
          "li",
          { class: "item stacked" },
          h("strong", {}, subscription.name),
          h("span", { class: "mono" }, subscription.endpoint),
          h(
            "span",
            { class: "hint" },
            `${subscription.schema}; ${subscription.eventTypes?.join(", ") || "all event types"}`,
          ),
          h(
            "button",
            { "data-key": `unsubscribe-${subscription.name}`, onclick: () => unsubscribe(subscription.name) },
            "Delete",
          ),
        ),
      ),
    );
    render(deadLetterList, deadLetters, () =>
      deadLetters.length
        ? deadLetters.map((letter) =>
            h(
              "li",
              { class: "item stacked" },
              h("strong", {}, `${letter.subscription}: ${letter.event.eventType ?? letter.event.type ?? "event"}`),
              h("span", {}, `${letter.deadLetterReason} after ${letter.deliveryAttempts} attempt(s)`),
              h(
                "span",
                { class: "hint" },
                `${letter.deadLetterTime}; last ${letter.lastHttpStatusCode ?? letter.lastError ?? "no answer"}`,
              ),
            ),
          )
        : h("li", { class: "hint" }, "None."),
    );
  };
}
