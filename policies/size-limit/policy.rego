# An artifact's total size (manifest + config + layers, or + children for an index) must stay
# under a limit, which a namespace may override.
# Parameters: data.wharf.params.size_limit (see README.md).
package wharf.policies.size_limit

default params := {}

params := data.wharf.params.size_limit

# 10 GiB: beyond that an image is usually a mistake (a dataset or a cache baked into a layer).
default_max_bytes := 10737418240

namespace_limits := object.get(params, "namespaces", {})

limit := namespace_limits[input.artifact.namespace]

limit := object.get(params, "maxBytes", default_max_bytes) if not namespace_limits[input.artifact.namespace]

# Sizes in messages read as GiB with two decimals; the exact byte counts are in details.
gib(bytes) := sprintf("%v GiB", [round((bytes * 100) / 1073741824) / 100])

# Size is a property of what is stored, so only the push gate judges it.
at_push if input.point == "push"

deny contains violation if {
	at_push
	input.artifact.totalSize > limit
	violation := {
		"msg": sprintf("%s: %s is larger than the %s limit of namespace %s", [
			input.artifact.repository,
			gib(input.artifact.totalSize),
			gib(limit),
			input.artifact.namespace,
		]),
		"code": "ARTIFACT_TOO_LARGE",
		"details": {"totalSize": input.artifact.totalSize, "limit": limit},
	}
}
