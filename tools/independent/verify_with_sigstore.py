"""Checks Lantern's proof files with an independent implementation.

The `sigstore` package (PyPI) verifies Merkle inclusion proofs
(`sigstore._internal.merkle`) and signed checkpoints
(`sigstore._internal.rekor.checkpoint`) for Rekor. Its functions read a few
attributes of a Rekor log entry; this script hands them the same values
taken from a Lantern `.tlog-proof` file (C2SP tlog-proof v1), so the
arithmetic and the signature check are sigstore's, not Lantern's.

usage: verify_with_sigstore.py VERIFIER_KEY PROOF_FILE [--expect-failure]

Note: sigstore does not check that proof hashes are 32 bytes long; Lantern's
own verifier does.
"""

import base64
import sys
from types import SimpleNamespace

from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore._internal.rekor.checkpoint import verify_checkpoint
from sigstore._internal.trust import Keyring
from sigstore.errors import VerificationError
from sigstore_models.common import v1 as common_v1

# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def parse_key(text):
    name, key_id_hex, key_b64 = text.strip().split("+", 2)
    raw = base64.b64decode(key_b64)
    if len(raw) != 33 or raw[0] != 0x01:
        raise ValueError("not an Ed25519 signed-note verifier key")
    return name, bytes.fromhex(key_id_hex), raw[1:]


def parse_proof(text):
    head, checkpoint = text.split("\n\n", 1)
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise ValueError("not a tlog-proof v1 file")
    entry = base64.b64decode(lines[1][len("extra "):])
    index = int(lines[2][len("index "):])
    hashes = [base64.b64decode(line) for line in lines[3:]]
    size = int(checkpoint.split("\n")[1])
    root = base64.b64decode(checkpoint.split("\n")[2])
    return entry, index, hashes, checkpoint, size, root


def verify(key_text, proof_text):
    name, key_id, public = parse_key(key_text)
    entry, index, hashes, checkpoint, size, root = parse_proof(proof_text)
    inner = SimpleNamespace(
        canonicalized_body=entry,
        inclusion_proof=SimpleNamespace(
            log_index=index,
            tree_size=size,
            hashes=hashes,
            root_hash=root,
            checkpoint=SimpleNamespace(envelope=checkpoint),
        ),
        log_id=SimpleNamespace(key_id=key_id),
    )
    log_entry = SimpleNamespace(_inner=inner)
    keyring = Keyring(
        [
            common_v1.PublicKey(
                # The model takes bytes fields base64-encoded, as protobuf JSON does.
                raw_bytes=base64.b64encode(ED25519_SPKI_PREFIX + public),
                key_details=common_v1.PublicKeyDetails.PKIX_ED25519,
            )
        ]
    )
    verify_merkle_inclusion(log_entry)
    verify_checkpoint(keyring, log_entry)


def main():
    key_text = open(sys.argv[1]).read() if not sys.argv[1].count("+") else sys.argv[1]
    proof_text = open(sys.argv[2]).read()
    expect_failure = "--expect-failure" in sys.argv[3:]
    try:
        verify(key_text, proof_text)
    except (VerificationError, ValueError) as e:
        if expect_failure:
            print(f"refused as expected: {e}")
            return 0
        print(f"REFUSED: {e}")
        return 1
    if expect_failure:
        print("ACCEPTED a proof that must be refused")
        return 1
    print("verified by sigstore")
    return 0


if __name__ == "__main__":
    sys.exit(main())
