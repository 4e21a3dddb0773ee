package wharf.policies.signed_by_key_test

import data.wharf.policies.signed_by_key

params := {"signers": ["release", "sha256:abcd", "/^CN=Wharf Release,.*$/"]}

artifact_input(signatures) := {
	"point": "push",
	"artifact": {"repository": "team-a/app", "digest": "sha256:1111"},
	"trust": {"signatures": signatures, "attestations": [], "sbom": null, "vulnerabilities": null},
}

deny_for(signatures) := violations if {
	violations := signed_by_key.deny with input as artifact_input(signatures)
		with data.wharf.params.signed_by_key as params
}

test_cosign_key_by_name_allowed if {
	count(deny_for([{"type": "cosign", "signer": "key:release (sha256:9999)", "verified": true}])) == 0
}

test_cosign_key_by_fingerprint_allowed if {
	count(deny_for([{"type": "cosign", "signer": "key:other (sha256:abcd)", "verified": true}])) == 0
}

test_sigstore_bundle_counts_as_cosign if {
	count(deny_for([{"type": "sigstore-bundle", "signer": "release", "verified": true}])) == 0
}

test_notation_subject_regex_allowed if {
	count(deny_for([{"type": "notary-jws", "signer": "CN=Wharf Release, O=Example", "verified": true}])) == 0
}

test_unverified_signature_denied if {
	some v in deny_for([{"type": "cosign", "signer": "key:release (sha256:9999)", "verified": false}])
	v.code == "SIGNATURE_UNTRUSTED"
	v.details.signatures[0].verified == false
}

test_unknown_signer_denied if {
	count(deny_for([{"type": "cosign", "signer": "key:intruder (sha256:ffff)", "verified": true}])) == 1
}

test_key_name_prefix_is_not_enough if {
	# "release" must not match a key called "release-candidate".
	count(deny_for([{"type": "cosign", "signer": "key:release-candidate (sha256:ffff)", "verified": true}])) == 1
}

test_regex_is_anchored_by_the_pattern if {
	count(deny_for([{"type": "notary-cose", "signer": "CN=Evil, CN=Wharf Release, O=x", "verified": true}])) == 1
}

test_unsigned_denied_with_message if {
	some v in deny_for([])
	v.code == "SIGNATURE_UNTRUSTED"
	contains(v.msg, "team-a/app@sha256:1111")
	contains(v.msg, "cosign or notation")
}

test_dsse_type_is_not_a_signature_family if {
	count(deny_for([{"type": "dsse", "signer": "release", "verified": true}])) == 1
}

test_missing_signer_field_denied if {
	count(deny_for([{"type": "cosign", "verified": true}])) == 1
}

test_one_good_signature_among_bad_ones_is_enough if {
	count(deny_for([
		{"type": "cosign", "signer": "key:intruder (sha256:ffff)", "verified": true},
		{"type": "notary-jws", "signer": "CN=Wharf Release, O=x", "verified": true},
	])) == 0
}

test_types_restrict_families if {
	count(signed_by_key.deny) == 1 with input as artifact_input([{"type": "cosign", "signer": "release", "verified": true}])
		with data.wharf.params.signed_by_key as {"signers": ["release"], "types": ["notation"]}
}

test_no_signers_configured_fails_closed if {
	violations := signed_by_key.deny with input as artifact_input([{"type": "cosign", "signer": "release", "verified": true}])
	[v.code | some v in violations] == ["SIGNED_BY_KEY_NOT_CONFIGURED"]
}

test_admission_image_of_this_registry_judged if {
	inp := object.union(artifact_input([]), {"point": "admission"})
	count(signed_by_key.deny) == 1 with input as inp with data.wharf.params.signed_by_key as params
}

test_no_trust_document_denied if {
	count(signed_by_key.deny) == 1 with input as {"point": "pull", "artifact": {"repository": "a/b", "digest": "sha256:2"}}
		with data.wharf.params.signed_by_key as params
}

test_admission_image_outside_registry_not_judged if {
	count(signed_by_key.deny) == 0 with input as {"point": "admission", "artifact": null, "trust": {"signatures": []}}
		with data.wharf.params.signed_by_key as params
}

test_null_trust_denied if {
	count(signed_by_key.deny) == 1 with input as {"point": "pull", "artifact": {"repository": "a/b", "digest": "sha256:2"}, "trust": null}
		with data.wharf.params.signed_by_key as params
}

test_attachment_judged_with_subject_not_alone if {
	# The signature manifest itself is unsigned: refusing it would make every signature unreadable.
	inp := {
		"point": "pull",
		"artifact": {"repository": "team-a/app", "digest": "sha256:5555", "tag": "sha256-1111.sig", "subject": null},
		"trust": {"signatures": []},
		"subject": {"digest": "sha256:1111", "via": "tag", "kind": "signature", "artifact": {"repository": "team-a/app", "digest": "sha256:1111"}, "trust": {"signatures": []}},
	}
	count(signed_by_key.deny) == 0 with input as inp with data.wharf.params.signed_by_key as params
	count(signed_by_key.deny) == 1 with input as object.union(inp, {"subject": null}) with data.wharf.params.signed_by_key as params
}
