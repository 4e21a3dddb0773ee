package wharf.policies.size_limit_test

import data.wharf.policies.size_limit

gib := 1073741824

push(namespace, total) := {
	"point": "push",
	"artifact": {"repository": sprintf("%s/app", [namespace]), "namespace": namespace, "totalSize": total},
}

params := {"maxBytes": 2 * gib, "namespaces": {"ml": 50 * gib, "tiny": 1048576}}

deny_for(namespace, total) := violations if {
	violations := size_limit.deny with input as push(namespace, total) with data.wharf.params.size_limit as params
}

test_default_limit_is_10_gib if {
	count(size_limit.deny) == 0 with input as push("team-a", 10 * gib)
	some v in size_limit.deny with input as push("team-a", (10 * gib) + 1)
	v.code == "ARTIFACT_TOO_LARGE"
	v.details.limit == 10 * gib
}

test_configured_limit if {
	count(deny_for("team-a", 2 * gib)) == 0
	count(deny_for("team-a", (2 * gib) + 1)) == 1
}

test_namespace_override_raises if {
	count(deny_for("ml", 40 * gib)) == 0
	count(deny_for("ml", 51 * gib)) == 1
}

test_namespace_override_lowers if {
	some v in deny_for("tiny", 2097152)
	v.msg == "tiny/app: 0 GiB is larger than the 0 GiB limit of namespace tiny"
	v.details == {"totalSize": 2097152, "limit": 1048576}
}

test_message_rounds_to_hundredths if {
	some v in deny_for("team-a", (2.5 * gib) + 12345)
	v.msg == "team-a/app: 2.5 GiB is larger than the 2 GiB limit of namespace team-a"
}

test_message_in_gib if {
	some v in deny_for("team-a", 3 * gib)
	v.msg == "team-a/app: 3 GiB is larger than the 2 GiB limit of namespace team-a"
}

test_only_at_push if {
	inp := object.union(push("team-a", 100 * gib), {"point": "pull"})
	count(size_limit.deny) == 0 with input as inp
}
