package eventlog

// TakesFastPath reports whether the envelope raw is read by the scanner alone, without
// falling back to encoding/json.
func TakesFastPath(raw []byte) bool { return scanMetadata(raw, &Metadata{}, nil) }
