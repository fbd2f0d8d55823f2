package aggregates

// DecodeJSONOnly is Decode with encoding/json alone (the behaviour before the
// field tables), the reference the fast decoding must match.
func DecodeJSONOnly(eventType string, schemaVersion int, data []byte) (Event, error) {
	return decode(eventType, schemaVersion, data, true)
}

// HasFieldTable reports whether eventType has a field table.
func HasFieldTable(eventType string) bool { return registry[eventType].fast != nil }

// TakesFastPath reports whether a current-version payload of eventType is read
// by the field table alone, without falling back to encoding/json.
func TakesFastPath(eventType string, data []byte) bool {
	_, ok := registry[eventType].decodeFast(data)
	return ok
}
