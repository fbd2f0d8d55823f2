package loadtest

import (
	"encoding/json"
	"testing"
)

func TestDecodeWireMatchesUnmarshal(t *testing.T) {
	for _, s := range []string{
		`{"type":"event","position":123,"stream":"journey-A1234BC","noms":"A1234BC","revision":4,"eventType":"RiskAssessed","eventId":"x","who":"u","role":"crc","organisation":"C01","source":"api","correlationId":"lt-42","occurredAt":"2020-01-01T00:00:00Z","data":{"a":[1,2,{"b":"c\"}"}],"d":null,"e":"}"}}`,
		`{"type":"checkpoint","position":77}`,
		`{"type":"caught-up","position":0}`,
		`{"type":"subscribed","from":12,"role":"crc"}`,
		`{"type":"error","code":"bad","message":"a \"quoted\" word"}`,
		`{"type":"ev\u0065nt","position":5,"correlationId":"lt-1"}`,
		`{"TYPE":"event","position":5}`,
		` { "type" : "event" , "position" : 9 , "data" : [ ] } `,
		`{"position":-1}`,
		`{"position":1.5}`,
		`{"position":01}`,
		`{}`,
		`{"type":}`,
		`{"type":"event"`,
		`[1]`,
		`not json`,
	} {
		var want, got wireMessage
		werr := json.Unmarshal([]byte(s), &want)
		gerr := decodeWire([]byte(s), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: error %v, json.Unmarshal %v", s, gerr, werr)
			continue
		}
		if werr == nil && (got.Type != want.Type || got.Position != want.Position || got.CorrelationID != want.CorrelationID) {
			t.Errorf("%s: %+v, json.Unmarshal %+v", s, got, want)
		}
	}
}
