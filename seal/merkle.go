package seal

import (
	"crypto/sha256"
	"math/bits"
)

// Hash is a SHA-256 digest: a Merkle tree leaf, node or root.
type Hash [sha256.Size]byte

// LeafHash is RFC 6962's hash of a leaf: SHA-256(0x00 || data). The prefix keeps a
// leaf from ever being taken for an interior node (second pre-image).
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0x00})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash is RFC 6962's hash of an interior node: SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	h := sha256.New()
	h.Write([]byte{0x01})
	h.Write(left[:])
	h.Write(right[:])
	var out Hash
	h.Sum(out[:0])
	return out
}

// EmptyRoot is the root of a tree with no leaves: SHA-256 of nothing (RFC 6962 2.1).
func EmptyRoot() Hash { return sha256.Sum256(nil) }

// split is the k of RFC 6962's MTH: the largest power of two smaller than n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// Root is the Merkle tree hash (MTH) of the leaf hashes, in order.
func Root(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return EmptyRoot()
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return NodeHash(Root(leaves[:k]), Root(leaves[k:]))
}

// InclusionProof is RFC 6962's audit path PATH(index, leaves): the sibling hashes
// from the leaf up to the root. It returns nil when index is out of range.
func InclusionProof(leaves []Hash, index int) []Hash {
	if index < 0 || index >= len(leaves) {
		return nil
	}
	return path(leaves, index, nil)
}

func path(leaves []Hash, index int, out []Hash) []Hash {
	if len(leaves) <= 1 {
		return out
	}
	k := split(len(leaves))
	if index < k {
		out = path(leaves[:k], index, out)
		return append(out, Root(leaves[k:]))
	}
	out = path(leaves[k:], index-k, out)
	return append(out, Root(leaves[:k]))
}

// VerifyInclusion reports whether proof shows that leaf is the index-th of size
// leaves in the tree whose root is root, by the algorithm of RFC 9162 2.1.3.2.
func VerifyInclusion(leaf Hash, index, size uint64, proof []Hash, root Hash) bool {
	if index >= size {
		return false
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range proof {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}
