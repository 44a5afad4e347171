package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium to drive. Where none is installed the
// browser tests skip, unless MUSTER_REQUIRE_CHROMIUM is set (CI installs
// one): then a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MUSTER_REQUIRE_CHROMIUM") != "" {
		t.Fatal("no Chromium found, and MUSTER_REQUIRE_CHROMIUM is set: install Debian's chromium")
	}
	t.Skip("no Chromium found: install Debian's chromium to run the browser tests")
	return ""
}

// newBrowser starts a headless Chromium for the test and returns its
// context; every action is bounded by timeout.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox.
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	// The browser lives as long as the context of its first action: one
	// with no deadline. The test's actions share a deadline.
	if err := chromedp.Do(bctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTime := context.WithTimeout(bctx, timeout)
	t.Cleanup(func() { cancelTime(); cancelCtx(); cancelAlloc() })
	return ctx
}

// browse runs browser actions, failing the test with what it was doing.
func browse(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// waitTrue waits until the JavaScript expression js is true in the page.
func waitTrue(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	browse(t, ctx, what, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(90*time.Second)))
}

// watchedJob is a service of three executions, one per node, rolled out a
// node at a time; each logs a line a second, with markup that must show
// as text.
const watchedJob = `name: web
type: service
count: 3
selector: {match_labels: {role: web}}
task:
  engine: exec
  cmd: [sh, -c, 'echo "v%d <b>bold</b>"; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done']
rollout:
  strategy: rolling
  max_parallel: 1
  health_check: {min_healthy_time: 1500ms, interval: 250ms}
`

// TestBrowserWatchesRollout logs in, watches a job appear, a rollout run
// wave by wave and finish on the job page as events arrive, follows an
// execution's log, and lists the nodes: each in a real headless Chromium
// driving a real muster dev with agents.
func TestBrowserWatchesRollout(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	ctx := newBrowser(t, 3*time.Minute)
	u := startWebUI(t)
	addr := strings.TrimPrefix(u.base, "http://")
	for _, n := range []string{"n1", "n2", "n3"} {
		cfg := u.write(n+".yaml", fmt.Sprintf("id: %s\nlabels: {role: web, zone: z-%s}\n", n, n))
		u.start(`joined`, "agent", "--server", addr, "--node-config", cfg, "--dir", "agent-"+n)
	}
	u.waitNodes(3, "role=web")

	// Without a session the UI asks for a token; with one it lists jobs.
	browse(t, ctx, "open the UI", chromedp.Navigate(u.base+"/ui/"), chromedp.WaitVisible(chromedp.ID("token")))
	browse(t, ctx, "log in",
		chromedp.SendKeys(chromedp.ID("token"), u.token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(`#live-status.on`)))

	// A job applied now appears on the open page, with its executions.
	file := u.write("web.yaml", fmt.Sprintf(watchedJob, 1))
	u.ok("apply", "--auto-approve", "--detach", file)
	waitTrue(t, ctx, "the job and its running executions on the jobs page",
		`document.querySelectorAll('tr[data-job="default/web"] .exec[data-state="running"]').length === 3`)
	screenshot(t, ctx, "ui-jobs.png")

	// A new version rolls out while the job page is open: the page shows
	// it set by set without a reload.
	browse(t, ctx, "open the job page", chromedp.Click(chromedp.CSS(`tr[data-job="default/web"] a`)),
		chromedp.WaitVisible(chromedp.ID("rollout")))
	u.write("web.yaml", fmt.Sprintf(watchedJob, 2))
	u.ok("apply", "--auto-approve", "--detach", file)
	waitTrue(t, ctx, "the rollout of v2 under way, a wave done and one current",
		`(() => { const h = document.querySelector('#rollout h2'); if (!h || !h.textContent.includes('v2')) return false;
		  const sets = [...document.querySelectorAll('.set')].map(s => s.querySelector('.badge').textContent);
		  return sets.includes('done') && sets.includes('current'); })()`)
	screenshot(t, ctx, "ui-job-rollout.png")
	waitTrue(t, ctx, "the rollout of v2 completed on the page",
		`(() => { const h = document.querySelector('#rollout h2'); return h && h.textContent.includes('v2') && h.textContent.includes('completed')
		  && document.querySelectorAll('#executions tr[data-state="running"]').length === 3; })()`)
	waitTrue(t, ctx, "the events listed as they came", `[...document.querySelectorAll('#events li b')].some(b => b.textContent === 'finished')`)
	waitTrue(t, ctx, "the diff of v2", `[...document.querySelectorAll('.diff code')].some(c => c.textContent === 'task.cmd[2]')`)
	screenshot(t, ctx, "ui-job.png")

	// An execution's log follows as the task writes it, markup as text.
	browse(t, ctx, "open an execution", chromedp.Click(chromedp.CSS(`#executions tr[data-state="running"] a`)),
		chromedp.WaitVisible(chromedp.ID("stdout")))
	waitTrue(t, ctx, "the log's first lines", `document.getElementById('stdout').textContent.includes('tick 2')`)
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("stdout")))
	if err != nil {
		t.Fatalf("browser: read the log: %v", err)
	}
	waitTrue(t, ctx, "the log followed", fmt.Sprintf(`document.getElementById('stdout').textContent.length > %d && /tick [4-9]/.test(document.getElementById('stdout').textContent)`, len(first)))
	waitTrue(t, ctx, "markup in the log shown as text", `document.getElementById('stdout').textContent.includes('v2 <b>bold</b>') && !document.querySelector('#stdout b')`)
	screenshot(t, ctx, "ui-execution.png")

	// The nodes with their labels.
	browse(t, ctx, "open the nodes", chromedp.Navigate(u.base+"/ui/nodes"), chromedp.WaitVisible(chromedp.ID("nodes")))
	waitTrue(t, ctx, "the agents and their labels", `['n1','n2','n3'].every(n => { const r = document.querySelector('tr[data-node="'+n+'"]'); return r && r.textContent.includes('zone=z-'+n) && r.textContent.includes(' used, '); })`)
	screenshot(t, ctx, "ui-nodes.png")

	// Logging out ends the session: the UI asks for a token again.
	browse(t, ctx, "log out", chromedp.Click(chromedp.CSS(".logout button")), chromedp.WaitVisible(chromedp.ID("token")))
	browse(t, ctx, "open the job page logged out", chromedp.Navigate(u.base+"/ui/jobs/default/web"), chromedp.WaitVisible(chromedp.ID("token")))

	// The link muster dev prints logs in, and leaves no token in the address.
	browse(t, ctx, "open the banner's link", chromedp.Navigate(u.link), chromedp.WaitVisible(chromedp.ID("jobs")))
	if at, err := chromedp.Run(ctx, chromedp.Location()); err != nil || at != u.base+"/ui/" {
		t.Errorf("after the banner's link the browser is at %s (%v), want %s", at, err, u.base+"/ui/")
	}
}

// screenshot saves the page to $MUSTER_UI_SCREENSHOTS/name when that is
// set (docs/ holds the ones taken so), and does nothing otherwise.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MUSTER_UI_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
