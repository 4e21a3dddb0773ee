package wharf.policies.cost_center_label_test

import data.wharf.policies.cost_center_label as cc

push(labels) := {
	"point": "push",
	"artifact": {"repository": "team-a/app", "namespace": "team-a"},
	"namespace": {"name": "team-a", "labels": labels},
}

test_labelled_namespace_allowed if {
	count(cc.deny) == 0 with input as push({"cost-center": "cc-42"})
}

test_unlabelled_namespace_denied if {
	some v in cc.deny with input as push({"gpu": "true"})
	v.code == "COST_CENTER_MISSING"
	v.msg == `namespace team-a has no "cost-center" label: every namespace must name the cost center it is charged to`
}

test_empty_value_denied if {
	count(cc.deny) == 1 with input as push({"cost-center": ""})
}

test_missing_namespace_document_uses_artifact_namespace if {
	some v in cc.deny with input as {"point": "push", "artifact": {"repository": "team-b/x", "namespace": "team-b"}}
	v.details.namespace == "team-b"
}

test_pattern if {
	p := {"pattern": "^cc-[0-9]+$"}
	count(cc.deny) == 0 with input as push({"cost-center": "cc-42"}) with data.wharf.params.cost_center_label as p
	some v in cc.deny with input as push({"cost-center": "marketing"}) with data.wharf.params.cost_center_label as p
	v.code == "COST_CENTER_INVALID"
}

test_custom_label_name if {
	p := {"label": "billing/owner"}
	count(cc.deny) == 1 with input as push({"cost-center": "cc-42"}) with data.wharf.params.cost_center_label as p
	count(cc.deny) == 0 with input as push({"billing/owner": "finance"}) with data.wharf.params.cost_center_label as p
}

test_exempt_namespace if {
	count(cc.deny) == 0 with input as push({}) with data.wharf.params.cost_center_label as {"exemptNamespaces": ["team-a"]}
}

test_pull_not_judged_by_default if {
	inp := object.union(push({}), {"point": "pull"})
	count(cc.deny) == 0 with input as inp
	count(cc.deny) == 1 with input as inp with data.wharf.params.cost_center_label as {"points": ["push", "pull"]}
}
