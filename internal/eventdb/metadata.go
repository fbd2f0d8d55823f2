package eventdb

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// MetadataStreamPrefix marks a stream's metadata stream ($$name), as in EventStoreDB.
const MetadataStreamPrefix = "$$"

// MetadataStream returns the name of the stream holding name's metadata.
func MetadataStream(name string) string { return MetadataStreamPrefix + name }

// IsMetadataStream reports whether name is a $$ metadata stream.
func IsMetadataStream(name string) bool { return strings.HasPrefix(name, MetadataStreamPrefix) }

// deletedTruncateBefore is the $tb a soft delete writes (long.MaxValue in EventStoreDB).
const deletedTruncateBefore = math.MaxInt64

// streamMetadata is the part of a stream's metadata that changes what reads return.
type streamMetadata struct {
	maxAge         int64 // seconds; 0 = none
	maxCount       int64 // 0 = none
	truncateBefore int64 // 0 = none
	raw            map[string]json.RawMessage
}

// parseStreamMetadata reads the system properties the store honours; anything it cannot
// parse is kept but ignored, as the real server does with metadata it does not understand.
func parseStreamMetadata(data []byte) streamMetadata {
	var m streamMetadata
	if err := json.Unmarshal(data, &m.raw); err != nil {
		m.raw = nil
		return m
	}
	m.maxAge = positiveInt(m.raw["$maxAge"])
	m.maxCount = positiveInt(m.raw["$maxCount"])
	m.truncateBefore = positiveInt(m.raw["$tb"])
	return m
}

func positiveInt(raw json.RawMessage) int64 {
	if raw == nil {
		return 0
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil || v <= 0 {
		return 0
	}
	if v >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// softDeleted is how EventStoreDB marks a soft-deleted stream: $tb at long.MaxValue.
func (m streamMetadata) softDeleted() bool { return m.truncateBefore == deletedTruncateBefore }

// withTruncateBefore returns the metadata document with $tb replaced, keeping every
// other property the user set.
func (m streamMetadata) withTruncateBefore(tb int64) []byte {
	out := make(map[string]json.RawMessage, len(m.raw)+1)
	for k, v := range m.raw {
		out[k] = v
	}
	b, _ := json.Marshal(tb)
	out["$tb"] = b
	doc, err := json.Marshal(out)
	if err != nil {
		// RawMessage values came from a successful Unmarshal, so they re-marshal.
		panic(err)
	}
	return doc
}

// firstVisible is the lowest revision a read may return, given the stream's last revision.
func (m streamMetadata) firstVisible(last int64) int64 {
	first := int64(0)
	if m.truncateBefore > first {
		first = m.truncateBefore
	}
	if m.maxCount > 0 && last+1-m.maxCount > first {
		first = last + 1 - m.maxCount
	}
	return first
}

func secondsDuration(s int64) time.Duration {
	if s > int64(math.MaxInt64/time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s) * time.Second
}
