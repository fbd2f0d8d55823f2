package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gateledger/gateledger/web/problem"
	"github.com/gateledger/gateledger/web/request"
)

type oasDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties           map[string]json.RawMessage `json:"properties"`
			Required             []string                   `json:"required"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		} `json:"schemas"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type oasOperation struct {
	OperationID string `json:"operationId"`
	RequestBody *struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

func loadOpenAPI(t *testing.T) oasDoc {
	t.Helper()
	var doc oasDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRoutes: every route the server registers is documented
// with its operationId, and every documented path and method is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	w := newWorld(t, nil)
	if _, err := newServer(w.cfg); err == nil {
		t.Fatal("a second server on the same Metrics should be refused")
	}
	cfg := w.cfg
	cfg.Metrics = NewMetrics()
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range s.routes {
		key := strings.ToLower(r.Method) + " " + r.Path
		if _, dup := served[key]; dup {
			t.Errorf("route %s registered twice", key)
		}
		served[key] = r.Name
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op oasOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			documented[method+" "+path] = op.OperationID
		}
	}
	for k, name := range served {
		if got, ok := documented[k]; !ok {
			t.Errorf("route %s is not documented", k)
		} else if got != name {
			t.Errorf("%s: documented operationId %q, route name %q", k, got, name)
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			t.Errorf("documented %s is not served", k)
		}
	}
	// And the server really answers every documented route (not the mux's
	// 404 or 405).
	for k := range documented {
		method, path, _ := strings.Cut(k, " ")
		path = strings.NewReplacer("{noms}", "A1234BC", "{pathway}", "HEALTH", "{id}", "a1", "{org}", "NPS-C").Replace(path)
		a := w.do(req{method: strings.ToUpper(method), path: path})
		if a.status == http.StatusMethodNotAllowed || (a.status == http.StatusNotFound && !strings.Contains(path, "live")) {
			t.Errorf("%s %s answered %d", method, path, a.status)
		}
	}
}

// TestOpenAPICommandSchemas: each command's documented body has exactly the
// fields the decoder accepts, refuses others, and requires what the validator
// requires.
func TestOpenAPICommandSchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, c := range request.CommandRoutes() {
		t.Run(c.Name, func(t *testing.T) {
			var op oasOperation
			if err := json.Unmarshal(doc.Paths["/v1/journeys/{noms}"+c.Path]["post"], &op); err != nil || op.RequestBody == nil {
				t.Fatalf("no documented request body (%v)", err)
			}
			ref := op.RequestBody.Content["application/json"].Schema.Ref
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			schema, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("schema %q missing", ref)
			}
			if schema.AdditionalProperties == nil || *schema.AdditionalProperties {
				t.Error("the schema must say additionalProperties: false (unknown fields are refused)")
			}
			var want []string
			typ := reflect.TypeOf(c.New()).Elem()
			for i := range typ.NumField() {
				f := typ.Field(i)
				if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && tag != "" {
					want = append(want, tag)
				}
			}
			var got []string
			for k := range schema.Properties {
				got = append(got, k)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("documented fields %v, decoder fields %v", got, want)
			}
			// What an empty body is refused for is what the schema requires.
			body := c.New()
			_, err := body.Command(request.CommandTarget{NOMS: "A1234BC", Pathway: "HEALTH", ActionID: "a1"})
			var pe *problem.Error
			var required []string
			if err != nil {
				if !errors.As(err, &pe) {
					t.Fatalf("%v", err)
				}
				for _, e := range pe.Fields {
					if strings.Contains(e.Message, "required") {
						required = append(required, e.Field)
					}
				}
			}
			doc := slices.Clone(schema.Required)
			slices.Sort(doc)
			slices.Sort(required)
			if !slices.Equal(doc, required) {
				t.Errorf("documented required %v, validator requires %v", doc, required)
			}
		})
	}
}

// TestOpenAPIProblemTypes: the documented problem types are exactly the
// kinds the server answers with.
func TestOpenAPIProblemTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Type struct {
							Enum []string `json:"enum"`
						} `json:"type"`
					} `json:"properties"`
				} `json:"Problem"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range problem.Kinds() {
		want = append(want, k.Type())
	}
	got := doc.Components.Schemas.Problem.Properties.Type.Enum
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("documented problem types %v, kinds %v", got, want)
	}
}
