# Only artifacts carrying a verified cosign or Notation signature from a trusted key or identity.
# Parameters: data.wharf.params.signed_by_key (see README.md).
package wharf.policies.signed_by_key

default params := {}

params := data.wharf.params.signed_by_key

# Fail closed: with no trusted signer configured, no signature can be trusted.
trusted_signers := object.get(params, "signers", [])

accepted_families := object.get(params, "types", ["cosign", "notation"])

# The trust document names formats precisely (cosign, sigstore-bundle, notary-jws, notary-cose);
# the policy reasons in families so one "notation" entry covers both envelope encodings.
family(type) := "cosign" if type in {"cosign", "sigstore-bundle"}

family(type) := "notation" if type in {"notation", "notary-jws", "notary-cose"}

# A pattern written /…/ is a regular expression; anything else must equal the signer, or name the
# key of a key-based signer ("key:NAME (sha256:…)") by its name or its fingerprint.
signer_matches(signer, pattern) if {
	startswith(pattern, "/")
	endswith(pattern, "/")
	count(pattern) > 1
	regex.match(substring(pattern, 1, count(pattern) - 2), signer)
}

signer_matches(signer, pattern) if signer == pattern

signer_matches(signer, pattern) if startswith(signer, sprintf("key:%s (", [pattern]))

signer_matches(signer, pattern) if {
	startswith(pattern, "sha256:")
	contains(signer, sprintf("(%s)", [pattern]))
}

trusted(sig) if {
	sig.verified == true
	family(sig.type) in accepted_families
	is_string(sig.signer)
	some pattern in trusted_signers
	signer_matches(sig.signer, pattern)
}

# trust is null or absent when nothing is known about the digest.
trust := input.trust if is_object(input.trust)

default trust := {}

signatures := object.get(trust, "signatures", [])

# A signature, attestation or SBOM is judged with its subject, never on its own: it is the evidence
# this policy reads about the subject (and is not itself signed, built or scanned), so it stays
# readable and verifiable whatever is decided about the subject. Wharf gives an attachment's input a
# `subject` (its subject's facts and trust); older inputs name the subject in artifact.subject.
is_attachment if is_object(input.subject)

is_attachment if is_string(input.artifact.subject)

applies if {
	input.point in {"push", "pull"}
	not is_attachment
}

applies if {
	input.point == "admission"
	input.artifact != null
}

deny contains violation if {
	applies
	count(trusted_signers) == 0
	violation := {
		"msg": "signed-by-key: no trusted signer is configured (data.wharf.params.signed_by_key.signers)",
		"code": "SIGNED_BY_KEY_NOT_CONFIGURED",
		"details": {},
	}
}

deny contains violation if {
	applies
	count(trusted_signers) > 0
	not any_trusted
	violation := {
		"msg": sprintf("%s@%s: no verified %s signature from a trusted signer", [
			object.get(input.artifact, "repository", "?"),
			object.get(input.artifact, "digest", "?"),
			concat(" or ", accepted_families),
		]),
		"code": "SIGNATURE_UNTRUSTED",
		"details": {
			"trustedSigners": trusted_signers,
			"signatures": [{"type": s.type, "signer": object.get(s, "signer", null), "verified": object.get(s, "verified", false)} | some s in signatures],
		},
	}
}

any_trusted if {
	some sig in signatures
	trusted(sig)
}
