package wharf.policies.license_allowlist_test

import data.wharf.policies.license_allowlist

with_licences(licences) := {
	"point": "push",
	"artifact": {"repository": "team-a/app", "digest": "sha256:5555"},
	"trust": {"signatures": [], "attestations": [], "sbom": {"formats": ["spdx"], "components": 3, "licenses": licences}, "vulnerabilities": null},
}

denied_licences(licences, p) := {v.details.license | some v in violations} if {
	violations := license_allowlist.deny with input as with_licences(licences) with data.wharf.params.license_allowlist as p
}

test_permissive_defaults_allowed if {
	count(license_allowlist.deny) == 0 with input as with_licences(["MIT", "Apache-2.0", "BSD-3-Clause"])
}

test_gpl_denied_by_default if {
	some v in license_allowlist.deny with input as with_licences(["MIT", "GPL-3.0-only"])
	v.code == "LICENSE_NOT_ALLOWED"
	v.msg == `team-a/app: licence "GPL-3.0-only" is not on the allow-list`
}

test_case_insensitive if {
	count(license_allowlist.deny) == 0 with input as with_licences(["mit", "APACHE-2.0"])
}

test_or_expression_needs_one_allowed_alternative if {
	denied_licences(["MIT OR GPL-2.0-only", "(GPL-2.0-only OR LGPL-2.1-only)"], {"allowed": ["MIT"]}) == {"(GPL-2.0-only OR LGPL-2.1-only)"}
}

test_and_expression_needs_every_term if {
	denied_licences(["MIT AND BSD-3-Clause", "MIT AND GPL-3.0-only"], {"allowed": ["MIT", "BSD-3-Clause"]}) == {"MIT AND GPL-3.0-only"}
}

test_with_exception_uses_base_licence if {
	denied_licences(["Apache-2.0 WITH LLVM-exception", "GPL-2.0-only WITH Classpath-exception-2.0"], {"allowed": ["Apache-2.0"]}) == {"GPL-2.0-only WITH Classpath-exception-2.0"}
}

test_custom_allow_list_replaces_defaults if {
	denied_licences(["MIT", "GPL-3.0-only"], {"allowed": ["GPL-3.0-only"]}) == {"MIT"}
}

test_noassertion_denied if {
	denied_licences(["NOASSERTION"], {}) == {"NOASSERTION"}
}

test_licence_ref_allowed_by_full_name if {
	denied_licences(["LicenseRef-acme-internal"], {"allowed": ["LicenseRef-acme-internal"]}) == set()
}

test_object_form_of_summary if {
	denied_licences([{"license": "MIT", "count": 3}, {"license": "AGPL-3.0-only", "count": 1}], {}) == {"AGPL-3.0-only"}
}

test_no_sbom_allowed_unless_required if {
	inp := object.union(with_licences([]), {"trust": {"sbom": null}})
	count(license_allowlist.deny) == 0 with input as inp
	some v in license_allowlist.deny with input as inp with data.wharf.params.license_allowlist as {"requireSbom": true}
	v.code == "SBOM_MISSING"
}

test_admission_image_of_this_registry_judged if {
	inp := object.union(with_licences(["GPL-3.0-only"]), {"point": "admission"})
	count(license_allowlist.deny) == 1 with input as inp
}

test_admission_foreign_image_not_judged if {
	inp := object.union(with_licences(["GPL-3.0-only"]), {"point": "admission", "artifact": null})
	count(license_allowlist.deny) == 0 with input as inp
}

test_supply_chain_summary_shape if {
	summary := {"count": 1, "formats": ["spdx 2.3"], "componentCount": 2, "licenses": [{"license": "MIT", "count": 1}, {"license": "GPL-2.0-only", "count": 1}]}
	inp := json.patch(with_licences([]), [{"op": "replace", "path": "/trust/sbom", "value": summary}])
	violations := license_allowlist.deny with input as inp
	[v.details.license | some v in violations] == ["GPL-2.0-only"]
}

test_empty_summary_counts_as_no_sbom if {
	summary := {"count": 0, "formats": [], "componentCount": 0, "licenses": []}
	inp := json.patch(with_licences([]), [{"op": "replace", "path": "/trust/sbom", "value": summary}])
	count(license_allowlist.deny) == 0 with input as inp
	count(license_allowlist.deny) == 1 with input as inp with data.wharf.params.license_allowlist as {"requireSbom": true}
}

test_null_trust_counts_as_no_sbom if {
	inp := {"point": "pull", "artifact": {"repository": "a/b"}, "trust": null}
	count(license_allowlist.deny) == 0 with input as inp
	count(license_allowlist.deny) == 1 with input as inp with data.wharf.params.license_allowlist as {"requireSbom": true}
}
