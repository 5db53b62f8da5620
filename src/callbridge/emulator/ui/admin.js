// Tenant admin, Teams side: the ACS federation setting and external access policies with their
// assignments, as Set-CsTeamsAcsFederationConfiguration and New-/Set-/Grant-CsExternalAccessPolicy do.

import { control } from "./api.js";
import { h, onSubmit, render, say, sync } from "./common/dom.js";

const EVERYONE = "global";

export function tenantAdmin(refresh) {
  const federation = document.getElementById("federation-form");
  const federationStatus = document.getElementById("federation-status");
  const policyList = document.getElementById("policy-list");
  const assignmentList = document.getElementById("assignment-list");
  const policyForm = document.getElementById("policy-form");
  const grantForm = document.getElementById("grant-form");
  const policiesStatus = document.getElementById("policies-status");

  onSubmit(federation, federationStatus, async (data) => {
    const resources = data.get("allowedAcsResources").split(/\s+/).filter(Boolean);
    const saved = await control.put("/teams/acs-federation", {
      enableAcsUsers: data.get("enableAcsUsers") === "on",
      allowedAcsResources: resources,
    });
    refresh();
    return saved.enableAcsUsers
      ? `ACS users allowed for ${saved.allowedAcsResources.length} resource(s).`
      : "ACS users are blocked.";
  });

  onSubmit(policyForm, policiesStatus, async (data) => {
    const created = await control.post("/teams/external-access-policies", {
      identity: data.get("identity").trim(),
      enableAcsFederationAccess: data.get("enableAcsFederationAccess") === "on",
    });
    policyForm.reset();
    refresh();
    return `Created ${created.identity}.`;
  });

  onSubmit(grantForm, policiesStatus, async (data) => {
    const to = data.get("to");
    const policyName = data.get("policyName");
    await control.post(
      "/teams/external-access-policies:grant",
      to === EVERYONE ? { policyName, global: true } : { policyName, user: to },
    );
    refresh();
    return `Granted ${policyName}.`;
  });

  const act = async (action, done, undo) => {
    try {
      await action();
      say(policiesStatus, done);
    } catch (error) {
      undo?.();
      say(policiesStatus, error.message, "error");
    }
    refresh();
  };
  const path = (identity) => `/teams/external-access-policies/${encodeURIComponent(identity)}`;

  return function update({ info, users, groups, federation: current, policies }) {
    document.getElementById("resource-id").textContent = info.acs.immutableResourceId;
    sync(federation.elements.enableAcsUsers, "checked", current.enableAcsUsers);
    sync(federation.elements.allowedAcsResources, "value", current.allowedAcsResources.join("\n"));

    const names = Object.fromEntries([...users, ...groups].map((who) => [who.id, who.displayName]));
    render(policyList, policies.value, (value) =>
      value.map((policy) =>
        h(
          "li",
          { class: "item" },
          h("span", { class: "mono" }, policy.identity),
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              checked: policy.enableAcsFederationAccess,
              "data-key": `acs-${policy.identity}`,
              onchange: ({ target }) =>
                act(
                  () => control.patch(path(policy.identity), { enableAcsFederationAccess: target.checked }),
                  `${policy.identity} updated.`,
                  () => (target.checked = !target.checked),
                ),
            }),
            "ACS access",
          ),
          policy.identity !== "Global" &&
            h(
              "button",
              {
                "data-key": `delete-${policy.identity}`,
                onclick: () => act(() => control.delete(path(policy.identity)), `${policy.identity} removed.`),
              },
              "Delete",
            ),
        ),
      ),
    );

    const { assignments, pending } = policies;
    render(assignmentList, { assignments, names, pending }, () => [
      h("li", { class: "item" }, "Everyone: ", h("span", { class: "mono" }, assignments.global)),
      Object.entries(assignments.users).map(([userId, policy]) =>
        h(
          "li",
          { class: "item" },
          `${names[userId] ?? userId}: `,
          h("span", { class: "mono" }, policy),
          h(
            "button",
            {
              "data-key": `revoke-${userId}`,
              onclick: () =>
                act(
                  () => control.post("/teams/external-access-policies:grant", { policyName: null, user: userId }),
                  "Revoked.",
                ),
            },
            "Revoke",
          ),
        ),
      ),
      assignments.groups.map((grant) =>
        h(
          "li",
          { class: "item" },
          `${names[grant.groupId] ?? grant.groupId} (group, rank ${grant.rank}): `,
          h("span", { class: "mono" }, grant.policyName),
        ),
      ),
      Object.keys(pending).length > 0 &&
        h("li", { class: "item hint" }, `Propagating: ${Object.keys(pending).join(", ")}`),
    ]);

    render(
      grantForm.elements.policyName,
      policies.value.map((p) => p.identity),
      (identities) => identities.map((identity) => h("option", { value: identity }, identity)),
    );
    render(
      grantForm.elements.to,
      users.map((u) => [u.id, u.displayName]),
      (choices) => [
        h("option", { value: EVERYONE }, "Everyone (global)"),
        choices.map(([id, name]) => h("option", { value: id }, name)),
      ],
    );
  };
}
