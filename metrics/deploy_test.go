package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The deploy files live beside the code so that these tests keep them in
// step with the metrics the gateway really exports.
const (
	deployDir   = "../deploy"
	rulesFile   = deployDir + "/prometheus/ecardgw-rules.yml"
	rulesTest   = deployDir + "/prometheus/ecardgw-rules.test.yml"
	scrapeFile  = deployDir + "/prometheus/prometheus.yml"
	dashboard   = deployDir + "/grafana/ecardgw-dashboard.json"
	unitFile    = deployDir + "/systemd/ecardgw.service"
	operationMD = "../docs/operations.md"
)

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	out := runPromtool(t, "check", "rules", rulesFile)
	require.Contains(t, out, "SUCCESS")
}

func TestPromtoolCheckConfig(t *testing.T) {
	out := runPromtool(t, "check", "config", scrapeFile)
	require.Contains(t, out, "SUCCESS")
}

func TestPromtoolRuleUnitTests(t *testing.T) {
	out := runPromtool(t, "test", "rules", rulesTest)
	require.Contains(t, out, "SUCCESS")
}

func TestPromtoolRuleUnitTestsCanFail(t *testing.T) {
	// The same unit tests against rules with a broken threshold must fail:
	// proof that the unit tests above test something.
	rules, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	tests, err := os.ReadFile(rulesTest)
	require.NoError(t, err)
	broken := strings.Replace(string(rules), "ecardgw_outbox_oldest_age_seconds > 600", "ecardgw_outbox_oldest_age_seconds > 6000", 1)
	require.NotEqual(t, string(rules), broken)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ecardgw-rules.yml"), []byte(broken), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.yml"), tests, 0o600))
	out, err := exec.Command(promtool(t), "test", "rules", filepath.Join(dir, "t.yml")).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "EcardgwOutboxStale")
}

// registryNames is every metric family in a fresh registry, gateway,
// Go and process collectors alike.
func registryNames(t *testing.T) []string {
	t.Helper()
	mfs, err := New(BuildInfo{}).Registry().Gather()
	require.NoError(t, err)
	names := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}

var anyMetricRef = regexp.MustCompile(`\b(?:ecardgw|go|process)_[a-z0-9_]*[a-z0-9]`)

func requireKnownMetrics(t *testing.T, where, text string, names []string) int {
	t.Helper()
	refs := anyMetricRef.FindAllString(text, -1)
	for _, ref := range refs {
		require.Contains(t, names, familyOf(ref, names), "%s uses %s, which the gateway does not export", where, ref)
	}
	return len(refs)
}

func TestRulesUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	n := requireKnownMetrics(t, rulesFile, string(rules), registryNames(t))
	require.GreaterOrEqual(t, n, 10)
}

func TestRunbookLinksResolve(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	doc, err := os.ReadFile(operationMD)
	require.NoError(t, err)
	anchors := headingAnchors(string(doc))
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(string(rules), -1)
	links := regexp.MustCompile(`runbook_url: "\{\{ \$externalLabels\.runbook_base_url \}\}/operations\.md#([a-z0-9_-]+)"`).FindAllStringSubmatch(string(rules), -1)
	require.Len(t, links, len(alerts), "every alert has a runbook link")
	for i, l := range links {
		require.Equal(t, strings.ToLower(alerts[i][1]), l[1], "alert %s links to its own section", alerts[i][1])
		require.Contains(t, anchors, l[1], "docs/operations.md has no section #%s", l[1])
	}
}

// headingAnchors computes the anchors GitHub gives markdown headings.
func headingAnchors(doc string) []string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboard)
	require.NoError(t, err)
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
			GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Title)
	names := registryNames(t)
	var ids []int
	used := map[string]bool{}
	for _, p := range d.Panels {
		require.NotContains(t, ids, p.ID, "panel ids are unique")
		ids = append(ids, p.ID)
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.Expr, p.Title)
			requireKnownMetrics(t, "dashboard panel "+p.Title, tg.Expr, names)
			for _, ref := range anyMetricRef.FindAllString(tg.Expr, -1) {
				used[familyOf(ref, names)] = true
			}
		}
	}
	// The dashboard shows every gateway metric.
	for _, n := range names {
		if strings.HasPrefix(n, Namespace+"_") {
			require.True(t, used[n], "dashboard does not show %s", n)
		}
	}
}

func TestSystemdUnitHardening(t *testing.T) {
	raw, err := os.ReadFile(unitFile)
	require.NoError(t, err)
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	for _, want := range []string{
		"User=ecardgw", "ProtectSystem=strict", "ReadWritePaths=/var/lib/ecardgw",
		"NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes", "CapabilityBoundingSet=",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "ExecReload=/bin/kill -HUP $MAINPID",
		"LimitNOFILE=65536", "Restart=always", "RestartSec=0",
		"StartLimitIntervalSec=60s", "StartLimitBurst=10",
		"Type=notify", "NotifyAccess=main", "WatchdogSec=30s",
	} {
		require.True(t, slices.Contains(lines, want), "unit lacks %q", want)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit with the
// binary swapped for /bin/true (not installed here); any warning — an
// unknown or misspelt directive — fails the test.
func TestSystemdUnitVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test runs systemd-analyze; make test runs it")
	}
	tool, err := exec.LookPath("systemd-analyze")
	require.NoError(t, err, "systemd-analyze is required (package systemd)")
	raw, err := os.ReadFile(unitFile)
	require.NoError(t, err)
	unit := regexp.MustCompile(`(?m)^ExecStart=.*$`).ReplaceAllString(string(raw), "ExecStart=/bin/true")
	f := filepath.Join(t.TempDir(), "ecardgw.service")
	require.NoError(t, os.WriteFile(f, []byte(unit), 0o600))
	out, err := exec.Command(tool, "verify", f).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Empty(t, strings.TrimSpace(string(out)))
}

// TestSystemdUnitDocumentationInstalled: every file the unit's
// Documentation= names is installed by a command of docs/operations.md's
// Install section, from a file that exists in the repository.
func TestSystemdUnitDocumentationInstalled(t *testing.T) {
	raw, err := os.ReadFile(unitFile)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^Documentation=(.+)$`).FindStringSubmatch(string(raw))
	require.NotNil(t, m, "the unit has Documentation=")
	ops, err := os.ReadFile("../docs/operations.md")
	require.NoError(t, err)
	install := regexp.MustCompile(`sudo install -D -m 0644 -t (\S+) ((?:docs/\S+ ?)+)`).FindStringSubmatch(string(ops))
	require.NotNil(t, install, "docs/operations.md installs the documentation")
	// The documented command, run from the repository with the target
	// directory moved to a temporary one (and without sudo).
	dest := t.TempDir()
	args := append([]string{"-D", "-m", "0644", "-t", dest}, strings.Fields(install[2])...)
	cmd := exec.Command("install", args...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	for _, doc := range strings.Fields(m[1]) {
		path, ok := strings.CutPrefix(doc, "file://")
		require.True(t, ok, "%s: a file:// URL", doc)
		require.Equal(t, install[1], filepath.Dir(path), "%s is installed by docs/operations.md", doc)
		_, err := os.Stat(filepath.Join(dest, filepath.Base(path)))
		require.NoError(t, err, "the install command puts %s there", doc)
	}
}

// TestRunbookBaseURLConfigured: the alerts' runbook_url is absolute once
// Prometheus runs with the shipped prometheus.yml, whose external label
// runbook_base_url is an http(s) URL (a relative link is dead in
// Alertmanager), and the rules' unit tests check the URL built from it.
func TestRunbookBaseURLConfigured(t *testing.T) {
	raw, err := os.ReadFile(scrapeFile)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s+runbook_base_url: (\S+)$`).FindStringSubmatch(string(raw))
	require.NotNil(t, m, "prometheus.yml sets global.external_labels.runbook_base_url")
	require.Regexp(t, `^https?://[^/]+/`, m[1])
	require.False(t, strings.HasSuffix(m[1], "/"), "the rules add /operations.md")
	tests, err := os.ReadFile(rulesTest)
	require.NoError(t, err)
	require.Contains(t, string(tests), `runbook_url: "`+m[1]+`/operations.md#`)
}

// TestEveryAlertHasAFiringUnitTest: each alert of the rules file is made
// to fire, with its labels and annotations checked, by at least one
// promtool unit test.
func TestEveryAlertHasAFiringUnitTest(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	tests, err := os.ReadFile(rulesTest)
	require.NoError(t, err)
	firing := map[string]bool{}
	for _, m := range regexp.MustCompile(`alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels:`).FindAllStringSubmatch(string(tests), -1) {
		firing[m[1]] = true
	}
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(string(rules), -1)
	require.GreaterOrEqual(t, len(alerts), 17)
	for _, a := range alerts {
		require.True(t, firing[a[1]], "no promtool unit test makes %s fire", a[1])
	}
}

// dashPanel is what TestDashboardReadsAtAGlance checks of a panel.
type dashPanel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Targets     []struct {
		Expr    string `json:"expr"`
		Format  string `json:"format"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Thresholds *struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
			Mappings []struct {
				Type    string `json:"type"`
				Options map[string]struct {
					Text  string `json:"text"`
					Color string `json:"color"`
				} `json:"options"`
			} `json:"mappings"`
			Custom struct {
				ThresholdsStyle struct {
					Mode string `json:"mode"`
				} `json:"thresholdsStyle"`
			} `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Options struct {
		ReduceOptions struct {
			Fields string `json:"fields"`
		} `json:"reduceOptions"`
		TextMode string `json:"textMode"`
	} `json:"options"`
}

// colorFor is the color Grafana gives value v: a value mapping's, else
// the threshold step it falls in.
func (p dashPanel) colorFor(v float64) (text, color string) {
	for _, m := range p.FieldConfig.Defaults.Mappings {
		if o, ok := m.Options[strconv.FormatFloat(v, 'f', -1, 64)]; ok && m.Type == "value" {
			return o.Text, o.Color
		}
	}
	if th := p.FieldConfig.Defaults.Thresholds; th != nil {
		for _, s := range th.Steps {
			if s.Value == nil || v >= *s.Value {
				color = s.Color
			}
		}
	}
	return "", color
}

// TestDashboardReadsAtAGlance: every panel says what it shows; every stat
// has thresholds and the state ones value mappings, so that "Up" 0 reads
// "Down" in red; "Version" shows the version string of the build-info
// metric, not its value 1; the latency, open files and decline panels
// draw their alert's threshold.
func TestDashboardReadsAtAGlance(t *testing.T) {
	raw, err := os.ReadFile(dashboard)
	require.NoError(t, err)
	var d struct {
		Panels []dashPanel `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	byTitle := map[string]dashPanel{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		byTitle[p.Title] = p
		require.GreaterOrEqual(t, len(p.Description), 30, "panel %q has a description", p.Title)
		if p.Type == "stat" {
			require.NotNil(t, p.FieldConfig.Defaults.Thresholds, "stat %q has thresholds", p.Title)
		}
	}
	for _, title := range []string{"Up", "Store up"} {
		p := byTitle[title]
		text, color := p.colorFor(0)
		require.Equal(t, "red", color, "%s 0 is red", title)
		require.Equal(t, "Down", text, title)
		text, color = p.colorFor(1)
		require.Equal(t, "green", color, "%s 1 is green", title)
		require.Equal(t, "Up", text, title)
	}
	_, color := byTitle["Centre"].colorFor(0)
	require.NotEmpty(t, byTitle["Centre"].FieldConfig.Defaults.Mappings, "Centre names its state")
	require.NotEqual(t, "green", color)

	v := byTitle["Version"]
	require.Len(t, v.Targets, 1)
	require.Equal(t, "table", v.Targets[0].Format, "Version reads the labels, as a table")
	require.True(t, v.Targets[0].Instant)
	require.Equal(t, "/^version$/", v.Options.ReduceOptions.Fields, "Version shows the version label")
	require.Equal(t, "value", v.Options.TextMode)

	for title, alertAt := range map[string]float64{
		"Request latency p99 by message type": 0.5,
		"Open files, share of the limit":      0.8,
		"Declines 03, 77 and A0":              50,
	} {
		p, ok := byTitle[title]
		require.True(t, ok, "the dashboard has %q", title)
		require.NotEqual(t, "off", p.FieldConfig.Defaults.Custom.ThresholdsStyle.Mode, title)
		require.NotEmpty(t, p.FieldConfig.Defaults.Custom.ThresholdsStyle.Mode, title)
		_, below := p.colorFor(alertAt * 0.9)
		_, at := p.colorFor(alertAt)
		require.Equal(t, "red", at, "%s: red at the alert's threshold", title)
		require.NotEqual(t, "red", below, title)
	}
}

// TestNewAlertUnitTestsCanFail: with each new alert's threshold broken,
// promtool's unit tests fail and name that alert: the tests pin the
// thresholds the runbook gives.
func TestNewAlertUnitTestsCanFail(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	tests, err := os.ReadFile(rulesTest)
	require.NoError(t, err)
	for alert, edit := range map[string][2]string{
		"EcardgwSlowRequests":         {"[5m]))) > 0.5", "[5m]))) > 5"},
		"EcardgwOpenFilesNearLimit":   {`process_max_fds{job="ecardgw"} > 0.8`, `process_max_fds{job="ecardgw"} > 0.9`},
		"EcardgwConnectionsRefused":   {`reason=~"cap|addr_limit"`, `reason=~"addr_limit"`},
		"EcardgwTerminalDeclineBurst": {`code=~"03|77"`, `code=~"77"`},
		"EcardgwCampusCodeClockDrift": {`[10m])) > 0.05`, `[10m])) > 0.5`},
	} {
		broken := strings.Replace(string(rules), edit[0], edit[1], 1)
		require.NotEqual(t, string(rules), broken, alert)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "ecardgw-rules.yml"), []byte(broken), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "t.yml"), tests, 0o600))
		out, err := exec.Command(promtool(t), "test", "rules", filepath.Join(dir, "t.yml")).CombinedOutput()
		require.Error(t, err, alert)
		require.Contains(t, string(out), "alertname: "+alert, alert)
	}
}
