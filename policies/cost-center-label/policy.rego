# Every namespace that receives artifacts must carry a cost-center label, so storage cost can be
# charged back; pushes into an unlabelled namespace are refused.
# Parameters: data.wharf.params.cost_center_label (see README.md).
package wharf.policies.cost_center_label

default params := {}

params := data.wharf.params.cost_center_label

label := object.get(params, "label", "cost-center")

# "" accepts any non-empty value.
pattern := object.get(params, "pattern", "")

exempt := {ns | some ns in object.get(params, "exemptNamespaces", [])}

# Pushes by default: refusing pulls would break running workloads over a bookkeeping gap.
points := {p | some p in object.get(params, "points", ["push"])}

applies if input.point in points

namespace_name := object.get(object.get(input, "namespace", {}), "name", object.get(object.get(input, "artifact", {}), "namespace", "?"))

value := object.get(object.get(object.get(input, "namespace", {}), "labels", {}), label, "")

deny contains violation if {
	applies
	not namespace_name in exempt
	value == ""
	violation := {
		"msg": sprintf("namespace %s has no %q label: every namespace must name the cost center it is charged to", [namespace_name, label]),
		"code": "COST_CENTER_MISSING",
		"details": {"namespace": namespace_name, "label": label},
	}
}

deny contains violation if {
	applies
	not namespace_name in exempt
	value != ""
	pattern != ""
	not regex.match(pattern, sprintf("%v", [value]))
	violation := {
		"msg": sprintf("namespace %s: label %s=%v does not match %q", [namespace_name, label, value, pattern]),
		"code": "COST_CENTER_INVALID",
		"details": {"namespace": namespace_name, "label": label, "value": value, "pattern": pattern},
	}
}
