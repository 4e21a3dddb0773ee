package wharf.policies.storage_budget_test

import data.wharf.policies.storage_budget as sb

gib := 1073741824

push(size, namespace) := {
	"point": "push",
	"artifact": {"repository": "team-a/app", "namespace": "team-a", "totalSize": size},
	"namespace": object.union({"name": "team-a", "labels": {}}, namespace),
}

quota(used, limit) := {"usage": {"storageBytes": used, "artifacts": 3}, "quota": {"storageBytes": limit}, "budget": null}

budget(projected, limit) := {
	"usage": {"storageBytes": 0, "artifacts": 0}, "quota": null,
	"budget": {"monthlyStorageCost": limit, "currency": "EUR", "pricePerGiBMonth": 0.02, "projectedMonthlyStorageCost": projected},
}

codes(inp) := {v.code | some v in violations} if {
	violations := sb.deny with input as inp
}

test_within_quota_allowed if {
	codes(push(100, quota(500, 1000))) == set()
}

test_exactly_at_quota_allowed if {
	codes(push(100, quota(900, 1000))) == set()
	codes(push(101, quota(900, 1000))) == {"QUOTA_EXCEEDED"}
}

test_quota_message if {
	some v in sb.deny with input as push(200, quota(900, 1000))
	v.msg == "namespace team-a: storing 200 more bytes would use 1100 of its 1000-byte quota"
	v.details == {"usedBytes": 900, "incomingBytes": 200, "quotaBytes": 1000}
}

test_no_quota_no_limit if {
	codes(push(10 * gib, {"usage": {"storageBytes": 10 * gib}, "quota": null, "budget": null})) == set()
}

test_within_budget_allowed if {
	# 2.30 + 10 GiB × 0.02 = 2.50 ≤ 25
	codes(push(10 * gib, budget(2.3, 25))) == set()
}

test_artifact_pushes_projection_over_budget if {
	# 24.90 + 10 GiB × 0.02 = 25.10 > 25
	some v in sb.deny with input as push(10 * gib, budget(24.9, 25))
	v.code == "STORAGE_BUDGET_EXCEEDED"
	v.msg == "namespace team-a: projected monthly storage cost 25.1 EUR exceeds the budget of 25 EUR"
}

test_exactly_at_budget_allowed if {
	# 24.80 + 10 GiB × 0.02 = 25.00, not over 25
	codes(push(10 * gib, budget(24.8, 25))) == set()
}

test_already_over_budget_denied if {
	codes(push(1, budget(30, 25))) == {"STORAGE_BUDGET_EXCEEDED"}
}

test_projection_without_price if {
	b := {"usage": {"storageBytes": 0}, "quota": null, "budget": {"monthlyStorageCost": 10, "projectedMonthlyStorageCost": 9.5}}
	codes(push(100 * gib, b)) == set()
	b2 := object.union(b, {"budget": {"projectedMonthlyStorageCost": 10.5}})
	codes(push(1, b2)) == {"STORAGE_BUDGET_EXCEEDED"}
}

test_both_limits_reported if {
	ns := object.union(quota(900, 1000), {"budget": {"monthlyStorageCost": 1, "pricePerGiBMonth": 0.02, "projectedMonthlyStorageCost": 5}})
	codes(push(200, ns)) == {"QUOTA_EXCEEDED", "STORAGE_BUDGET_EXCEEDED"}
}

test_checks_can_be_switched_off if {
	ns := object.union(quota(900, 1000), {"budget": {"monthlyStorageCost": 1, "pricePerGiBMonth": 0.02, "projectedMonthlyStorageCost": 5}})
	codes(push(200, ns)) == {"QUOTA_EXCEEDED"} with data.wharf.params.storage_budget as {"budget": false}
	codes(push(200, ns)) == {"STORAGE_BUDGET_EXCEEDED"} with data.wharf.params.storage_budget as {"quota": false}
}

test_only_at_push if {
	inp := object.union(push(200, quota(900, 1000)), {"point": "pull"})
	codes(inp) == set()
}
