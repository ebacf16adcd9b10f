package api_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocsListEveryRoute keeps docs/api.md's route table and the mounted
// routes the same, so the documentation cannot drift from the code.
func TestDocsListEveryRoute(t *testing.T) {
	e := newEnv(t)
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(GET|POST|PATCH|PUT|DELETE) (/api/v1/[^`]*)` \\| (operator|leader) \\|")
	param := regexp.MustCompile(`\{(\w+)\}`)
	var documented []string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1]+" "+param.ReplaceAllString(m[2], ":$1"))
	}
	var mounted []string
	for _, r := range e.app.GetRoutes(true) {
		if strings.HasPrefix(r.Path, "/api/v1/") && r.Method != "HEAD" {
			mounted = append(mounted, r.Method+" "+r.Path)
		}
	}
	slices.Sort(documented)
	slices.Sort(mounted)
	for _, r := range mounted {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in the table of docs/api.md", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(mounted, r) {
			t.Errorf("docs/api.md lists %s, which is not mounted", r)
		}
	}
	if len(documented) < 30 {
		t.Errorf("only %d routes found in docs/api.md; has the table's format changed?", len(documented))
	}
}

// TestDocsRolesMatch checks that the routes the table marks operator-only
// answer 403 to a leader and the others do not.
func TestDocsRolesMatch(t *testing.T) {
	e := newEnv(t)
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(GET|POST|PATCH) (/api/v1/[^`]*)` \\| (operator|leader) \\|")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		path := strings.NewReplacer("{id}", "1", "{ref}", "C1001").Replace(m[2])
		status, b := e.call(m[1], path, e.leader, "{}")
		if forbidden := status == 403; forbidden != (m[3] == "operator") {
			t.Errorf("%s %s as a leader: %d %s; the table says %s", m[1], m[2], status, b, m[3])
		}
	}
}
