package api

import (
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// adminPrefix is the root of the admin API.
const adminPrefix = "/admin/v1"

// adminDocInfo heads the admin API's OpenAPI document.
var adminDocInfo = docInfo{
	title:       "Herald admin API",
	version:     "v1",
	description: "Accounts, plans, apps, app keys, admin tokens, token signing keys, usage, webhook endpoints and the audit log. Every route but this document needs Authorization: Bearer <admin token>. Every GET also answers HEAD: the same status and headers, no body.",
}

// adminRoutes is the admin API's route table.
func (a *API) adminRoutes() []route {
	const (
		tAccounts = "accounts"
		tApps     = "apps"
		tKeys     = "keys"
		tTokens   = "tokens"
		tAudit    = "audit"
		tSigning  = "signing-keys"
		tMeta     = "meta"
		tUsage    = "usage"
		tPlans    = "plans"
		tDebug    = "debug"
	)
	routes := []route{
		{method: http.MethodGet, path: adminPrefix + "/openapi.json", id: "getOpenAPI", tag: tMeta,
			summary: "This OpenAPI 3.0 document.", public: true, status: http.StatusOK,
			freeForm: true, handler: a.serveOpenAPI},

		{method: http.MethodPost, path: adminPrefix + "/accounts", id: "createAccount", tag: tAccounts,
			summary: "Create an account.", status: http.StatusCreated,
			request: typeOf[createAccountRequest](), response: typeOf[controlplane.Account](),
			handler: a.createAccount},
		{method: http.MethodGet, path: adminPrefix + "/accounts", id: "listAccounts", tag: tAccounts,
			summary: "List accounts.", status: http.StatusOK, query: pageParams(),
			response: typeOf[controlplane.Account](), list: true, handler: a.listAccounts},
		{method: http.MethodGet, path: adminPrefix + "/accounts/:id", id: "getAccount", tag: tAccounts,
			summary: "Get one account.", status: http.StatusOK,
			response: typeOf[controlplane.Account](), handler: a.getAccount},
		{method: http.MethodPatch, path: adminPrefix + "/accounts/:id", id: "updateAccount", tag: tAccounts,
			summary: "Put an account on a plan: plan_id is a plan id, or null or \"\" to take it off its plan (unlimited); an unknown plan is a 400 naming plan_id. The configs of the account's apps are republished before the answer.",
			status:  http.StatusOK, request: typeOf[updateAccountRequest](),
			response: typeOf[controlplane.Account](), handler: a.updateAccount},
		{method: http.MethodDelete, path: adminPrefix + "/accounts/:id", id: "deleteAccount", tag: tAccounts,
			summary: "Delete an account; 409 while it has apps.", status: http.StatusNoContent,
			handler: a.deleteAccount},

		{method: http.MethodPost, path: adminPrefix + "/plans", id: "createPlan", tag: tPlans,
			summary: "Create a plan. enforcement is hard (refuse what is over a quota) or soft (record it); limits is a partial object, every limit 0 or absent meaning unlimited. Negative, fractional or absurdly large limits are a 400 naming limits.<name>; a name in use is a 409.",
			status:  http.StatusCreated, request: typeOf[createPlanRequest](),
			response: typeOf[billing.Plan](), handler: a.createPlan},
		{method: http.MethodGet, path: adminPrefix + "/plans", id: "listPlans", tag: tPlans,
			summary: "List plans.", status: http.StatusOK, query: pageParams(),
			response: typeOf[billing.Plan](), list: true, handler: a.listPlans},
		{method: http.MethodGet, path: adminPrefix + "/plans/:id", id: "getPlan", tag: tPlans,
			summary: "Get one plan.", status: http.StatusOK,
			response: typeOf[billing.Plan](), handler: a.getPlan},
		{method: http.MethodPatch, path: adminPrefix + "/plans/:id", id: "updatePlan", tag: tPlans,
			summary: "Change a plan's name, enforcement or any subset of its limits. The configs of every app of every account on the plan are republished before the answer, so gateways apply the change within a second.",
			status:  http.StatusOK, request: typeOf[updatePlanRequest](),
			response: typeOf[billing.Plan](), handler: a.updatePlan},
		{method: http.MethodDelete, path: adminPrefix + "/plans/:id", id: "deletePlan", tag: tPlans,
			summary: "Delete a plan; 409, naming how many, while accounts use it, and for the default plan of new accounts.",
			status:  http.StatusNoContent, handler: a.deletePlan},

		{method: http.MethodPost, path: adminPrefix + "/apps", id: "createApp", tag: tApps,
			summary: "Create an app; settings is a partial object over the defaults. Each of settings.allowed_origins must be an origin as browsers send it (https://app.example: http or https, a lower-case host, an IPv4 host in dotted decimal, a port only when not the default, no path, no trailing slash, no wildcard), else a 400 naming settings.allowed_origins[i].", status: http.StatusCreated,
			request: typeOf[createAppRequest](), response: typeOf[controlplane.App](), handler: a.createApp},
		{method: http.MethodGet, path: adminPrefix + "/apps", id: "listApps", tag: tApps,
			summary: "List apps, optionally of one account and matching a search.", status: http.StatusOK,
			query: append([]queryParam{
				{name: "account_id", description: "Only the apps of this account."},
				{name: "q", description: fmt.Sprintf("Only the apps whose name or id contains this text, ignoring case and surrounding spaces; %% and _ match themselves. At most %d characters (400 naming q beyond). A cursor stays valid for the same q.", controlplane.MaxAppSearchLen)},
			}, pageParams()...),
			response: typeOf[controlplane.App](), list: true, handler: a.listApps},
		{method: http.MethodGet, path: adminPrefix + "/apps/:id", id: "getApp", tag: tApps,
			summary: "Get one app.", status: http.StatusOK,
			response: typeOf[controlplane.App](), handler: a.getApp},
		{method: http.MethodPatch, path: adminPrefix + "/apps/:id", id: "updateApp", tag: tApps,
			summary: "Change an app's name, enabled flag or any subset of its settings; allowed_origins, when given, is checked as on creation.", status: http.StatusOK,
			request: typeOf[updateAppRequest](), response: typeOf[controlplane.App](), handler: a.updateApp},
		{method: http.MethodDelete, path: adminPrefix + "/apps/:id", id: "deleteApp", tag: tApps,
			summary: "Delete an app and its keys.", status: http.StatusNoContent, handler: a.deleteApp},

		{method: http.MethodPost, path: adminPrefix + "/apps/:id/keys", id: "createKey", tag: tKeys,
			summary: "Create a key; the answer is the only time its secret is shown. Key and secret are generated unless given (to import existing credentials).",
			status:  http.StatusCreated, request: typeOf[createKeyRequest](), requestOptional: true,
			response: typeOf[controlplane.NewKey](), handler: a.createKey},
		{method: http.MethodGet, path: adminPrefix + "/apps/:id/keys", id: "listKeys", tag: tKeys,
			summary: "List an app's keys, revoked ones included, never with secrets.", status: http.StatusOK,
			query: pageParams(), response: typeOf[controlplane.Key](), list: true, handler: a.listKeys},
		{method: http.MethodDelete, path: adminPrefix + "/apps/:id/keys/:key", id: "revokeKey", tag: tKeys,
			summary: "Revoke a key.", status: http.StatusNoContent, handler: a.revokeKey},

		{method: http.MethodPost, path: adminPrefix + "/tokens", id: "createToken", tag: tTokens,
			summary: "Create an admin token; the answer is the only time it is shown.", status: http.StatusCreated,
			request: typeOf[createTokenRequest](), response: typeOf[createdToken](), handler: a.createToken},
		{method: http.MethodGet, path: adminPrefix + "/tokens", id: "listTokens", tag: tTokens,
			summary: "List admin tokens, revoked ones included.", status: http.StatusOK, query: pageParams(),
			response: typeOf[controlplane.AdminToken](), list: true, handler: a.listTokens},
		{method: http.MethodDelete, path: adminPrefix + "/tokens/:id", id: "revokeToken", tag: tTokens,
			summary: "Revoke an admin token.", status: http.StatusNoContent, handler: a.revokeToken},

		{method: http.MethodGet, path: adminPrefix + "/signing-keys", id: "listSigningKeys", tag: tSigning,
			summary: "List the token signing keys, newest first, retired ones included; active marks the signer.",
			status:  http.StatusOK, query: pageParams(),
			response: typeOf[controlplane.SigningKey](), list: true, handler: a.listSigningKeys},
		{method: http.MethodPost, path: adminPrefix + "/signing-keys/rotate", id: "rotateSigningKey", tag: tSigning,
			summary: "Add a signing key that signs from now on; older keys keep verifying until retired.",
			status:  http.StatusCreated, response: typeOf[controlplane.SigningKey](), handler: a.rotateSigningKey},
		{method: http.MethodPost, path: adminPrefix + "/signing-keys/:kid/retire", id: "retireSigningKey", tag: tSigning,
			summary: "Retire a signing key: its tokens stop verifying. The last live key cannot be retired (409): rotate first.",
			status:  http.StatusNoContent, handler: a.retireSigningKey},
		{method: http.MethodDelete, path: adminPrefix + "/signing-keys/:kid", id: "deleteSigningKey", tag: tSigning,
			summary: "Retire a signing key, as POST .../retire (the row is kept for the record).",
			status:  http.StatusNoContent, handler: a.retireSigningKey},

		{method: http.MethodGet, path: adminPrefix + "/apps/:id/usage", id: "getAppUsage", tag: tUsage,
			summary: "An app's usage per period: the periods that counted something, oldest first, and totals of every field (counts summed, peak_connections the greatest). Accept: text/csv answers CSV: a header row, then one row per item, no totals. The app reads the same at GET /apps/{id}/usage with its key. A deleted app's usage stays readable here by its id (limits are then its account's plan's); an id with no app and no usage is a 404.",
			status:  http.StatusOK, query: usageParams(), csv: true,
			response: typeOf[controlplane.UsageReport](), handler: a.getAppUsage},
		{method: http.MethodGet, path: adminPrefix + "/accounts/:id/usage", id: "getAccountUsage", tag: tUsage,
			summary: "An account's usage per period, summed over its apps (deleted ones included), as getAppUsage. An item's peak_connections is the sum of the apps' peaks in that period, an upper bound of the account's.",
			status:  http.StatusOK, query: usageParams(), csv: true,
			response: typeOf[controlplane.UsageReport](), handler: a.getAccountUsage},
		{method: http.MethodGet, path: adminPrefix + "/apps/:id/usage/reconcile", id: "reconcileAppUsage", tag: tUsage,
			summary: "Compare an app's metered messages_published per period with its messages in the message stream (where the stream still holds the whole period, else null) and in the history (where the retention keeps the whole period, else null), all up to the last serial the meter counted. Periods where nothing was counted are left out.",
			status:  http.StatusOK, query: usageParams()[:3],
			response: typeOf[controlplane.ReconcileReport](), handler: a.reconcileAppUsage},

		{method: http.MethodGet, path: adminPrefix + "/apps/:id/debug/events", id: "streamAppDebugEvents", tag: tDebug,
			summary: "The app's live debug stream (docs/console.md, \"Debug stream\"): Server-Sent Events, first {\"type\":\"ready\"}, then one JSON event per data line as it happens on any gateway, the tenant API or the webhook dispatcher (connections, subscriptions, errors sent to clients, channels occupied and vacated, presence members, messages with a payload preview of 256 bytes, webhook deliveries), and a comment line every heartbeat. Events are published only while a console watches the app, capped per app and second (500 by default); what the cap or a slow reader drops is counted in dropped events. A disabled app can be watched; an unknown one is a 404.",
			status:  http.StatusOK, eventStream: true, response: typeOf[channels.DebugEvent](), handler: a.debugEvents},

		{method: http.MethodGet, path: adminPrefix + "/audit", id: "listAudit", tag: tAudit,
			summary: "List the audit log, newest first.", status: http.StatusOK, query: pageParams(),
			response: typeOf[controlplane.AuditEntry](), list: true, handler: a.listAudit},
	}
	routes = append(routes, a.appOpsRoutes()...)
	routes = append(routes, a.webhookRoutes()...)
	return append(routes, a.operatorWebhookRoutes()...)
}
