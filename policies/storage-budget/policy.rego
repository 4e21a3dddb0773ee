# Deny pushes that would take a namespace over its storage quota or its monthly storage budget.
# Parameters: data.wharf.params.storage_budget (see README.md).
package wharf.policies.storage_budget

default params := {}

params := data.wharf.params.storage_budget

check_quota := object.get(params, "quota", true)

check_budget := object.get(params, "budget", true)

gib := 1073741824

at_push if input.point == "push"

namespace := object.get(input, "namespace", {})

used_bytes := object.get(object.get(namespace, "usage", {}), "storageBytes", 0)

# totalSize counts shared layers again, so the projection errs on the safe (higher) side.
incoming_bytes := object.get(input.artifact, "totalSize", 0)

quota_bytes := namespace.quota.storageBytes

budget := namespace.budget

# The namespace's projected cost plus what this artifact adds; without a price, the projection
# as given.
projected_cost := budget.projectedMonthlyStorageCost + ((incoming_bytes / gib) * budget.pricePerGiBMonth)

projected_cost := budget.projectedMonthlyStorageCost if not priced

# A rule, so that the negation above holds when there is no price at all (as it does in OPA).
priced if is_number(budget.pricePerGiBMonth)

currency := object.get(budget, "currency", "")

money(amount) := trim_space(sprintf("%v %s", [round(amount * 100) / 100, currency]))

deny contains violation if {
	at_push
	check_quota
	is_number(quota_bytes)
	used_bytes + incoming_bytes > quota_bytes
	violation := {
		"msg": sprintf("namespace %s: storing %v more bytes would use %v of its %v-byte quota", [
			namespace.name, incoming_bytes, used_bytes + incoming_bytes, quota_bytes,
		]),
		"code": "QUOTA_EXCEEDED",
		"details": {"usedBytes": used_bytes, "incomingBytes": incoming_bytes, "quotaBytes": quota_bytes},
	}
}

deny contains violation if {
	at_push
	check_budget
	is_number(budget.monthlyStorageCost)
	projected_cost > budget.monthlyStorageCost
	violation := {
		"msg": sprintf("namespace %s: projected monthly storage cost %s exceeds the budget of %s", [
			namespace.name, money(projected_cost), money(budget.monthlyStorageCost),
		]),
		"code": "STORAGE_BUDGET_EXCEEDED",
		"details": {
			"projectedMonthlyStorageCost": projected_cost,
			"monthlyStorageCost": budget.monthlyStorageCost,
			"currency": currency,
		},
	}
}
