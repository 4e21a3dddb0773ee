# Only artifacts with a verified SLSA provenance attestation produced by a trusted builder and,
# when configured, built from an allowed source repository.
# Parameters: data.wharf.params.slsa_provenance (see README.md).
package wharf.policies.slsa_provenance

default params := {}

params := data.wharf.params.slsa_provenance

# Fail closed: with no trusted builder, no provenance can be trusted.
builders := object.get(params, "builders", [])

# Absent or empty: any source repository is accepted.
source_repositories := object.get(params, "sourceRepositories", [])

predicate_types := object.get(params, "predicateTypes", [
	"https://slsa.dev/provenance/v1",
	"https://slsa.dev/provenance/v0.2",
	"https://slsa.dev/provenance/v0.1",
])

matches(value, pattern) if {
	startswith(pattern, "/")
	endswith(pattern, "/")
	count(pattern) > 1
	regex.match(substring(pattern, 1, count(pattern) - 2), value)
}

matches(value, pattern) if {
	not startswith(pattern, "/")
	value == pattern
}

provenance(att) if att.predicateType in predicate_types

trusted_builder(att) if {
	is_string(att.builder)
	some pattern in builders
	matches(att.builder, pattern)
}

allowed_source(_) if count(source_repositories) == 0

allowed_source(att) if {
	is_string(att.sourceRepository)
	some pattern in source_repositories
	matches(att.sourceRepository, pattern)
}

acceptable(att) if {
	provenance(att)
	att.verified == true
	trusted_builder(att)
	allowed_source(att)
}

# trust is null or absent when nothing is known about the digest.
trust := input.trust if is_object(input.trust)

default trust := {}

attestations := object.get(trust, "attestations", [])

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

any_acceptable if {
	some att in attestations
	acceptable(att)
}

deny contains violation if {
	applies
	count(builders) == 0
	violation := {
		"msg": "slsa-provenance: no trusted builder is configured (data.wharf.params.slsa_provenance.builders)",
		"code": "SLSA_NOT_CONFIGURED",
		"details": {},
	}
}

deny contains violation if {
	applies
	count(builders) > 0
	not any_acceptable
	violation := {
		"msg": sprintf("%s@%s: %s", [
			object.get(input.artifact, "repository", "?"),
			object.get(input.artifact, "digest", "?"),
			reason,
		]),
		"code": "SLSA_PROVENANCE_MISSING",
		"details": {
			"builders": builders,
			"sourceRepositories": source_repositories,
			"provenance": [{
				"predicateType": att.predicateType,
				"builder": object.get(att, "builder", null),
				"sourceRepository": object.get(att, "sourceRepository", null),
				"verified": object.get(att, "verified", false),
			} |
				some att in attestations
				provenance(att)
			],
		},
	}
}

# The most specific explanation of why no provenance was accepted.
default reason := "no SLSA provenance attestation"

reason := "the SLSA provenance is not verified" if {
	some att in attestations
	provenance(att)
	not any_verified_provenance
}

reason := "no SLSA provenance from a trusted builder" if {
	any_verified_provenance
	not any_trusted_builder
}

reason := "the SLSA provenance names a source repository that is not allowed" if any_trusted_builder

any_verified_provenance if {
	some att in attestations
	provenance(att)
	att.verified == true
}

any_trusted_builder if {
	some att in attestations
	provenance(att)
	att.verified == true
	trusted_builder(att)
}
