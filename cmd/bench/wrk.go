package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// wrkScript makes wrk cycle through a scenario's generated requests and report in one parseable line.
//
//go:embed wrk.lua
var wrkScript []byte

// wrkThreads is wrk's thread count. Either count costs wrk under a fifth of a core at ~5,000 requests/s, yet -t2
// got the server 5-10% more requests/s than -t1 in six paired runs on 2 cores, presumably because a lone wrk
// thread, descheduled by the server or PostgreSQL, stalls all the connections at once.
const wrkThreads = 2

// wrkResultPrefix starts the line wrk.lua's done() prints.
const wrkResultPrefix = "bench-result "

// request is one HTTP request of a scenario, with a path relative to the server under test.
type request struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// wrkSummary is what wrk.lua's done() reports; times are in microseconds.
type wrkSummary struct {
	Requests       uint64 `json:"requests"`
	DurationMicros int64  `json:"duration_us"`
	P50Micros      int64  `json:"p50_us"`
	P95Micros      int64  `json:"p95_us"`
	P99Micros      int64  `json:"p99_us"`
	SocketErrors   uint64 `json:"socket_errors"` // connect, read, write and timeout
	StatusErrors   uint64 `json:"status_errors"` // responses with a status above 399
	Repeated       uint64 `json:"repeated"`      // requests sent after the list ran out, so repeating one
}

// wrkRunner runs wrk from a temporary directory holding the script and the requests of the current scenario.
type wrkRunner struct {
	dir string
}

func newWrkRunner() (*wrkRunner, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, fmt.Errorf("the load generator: %w (scripts/ensure-wrk.sh installs it)", err)
	}
	dir, err := os.MkdirTemp("", "junction-bench-")
	if err != nil {
		return nil, err
	}
	w := &wrkRunner{dir: dir}
	if err := os.WriteFile(w.script(), wrkScript, 0o600); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *wrkRunner) close() { _ = os.RemoveAll(w.dir) }

func (w *wrkRunner) script() string { return filepath.Join(w.dir, "wrk.lua") }

// writeRequests writes reqs where wrk.lua reads them: for each, "<method> <path> <header count> <body length>",
// one "Name: value" line per header, then the body and a newline.
func (w *wrkRunner) writeRequests(reqs []request) (string, error) {
	if len(reqs) == 0 {
		return "", errors.New("no requests")
	}
	var b bytes.Buffer
	for _, r := range reqs {
		if err := encodeRequest(&b, r); err != nil {
			return "", err
		}
	}
	file := filepath.Join(w.dir, "requests")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("write the requests: %w", err)
	}
	return file, nil
}

func encodeRequest(b *bytes.Buffer, r request) error {
	if strings.ContainsAny(r.method+r.path, " \r\n") {
		return fmt.Errorf("request %s %q: spaces or line breaks in the method or path", r.method, r.path)
	}
	var lines []string
	for _, name := range slices.Sorted(maps.Keys(r.header)) {
		for _, value := range r.header[name] {
			if strings.ContainsAny(name, ":\r\n") || strings.ContainsAny(value, "\r\n") {
				return fmt.Errorf("request %s %s: header %q: a colon in the name or a line break", r.method, r.path, name)
			}
			lines = append(lines, name+": "+value+"\n")
		}
	}
	fmt.Fprintf(b, "%s %s %d %d\n", r.method, r.path, len(lines), len(r.body))
	for _, line := range lines {
		b.WriteString(line)
	}
	b.Write(r.body)
	b.WriteByte('\n')
	return nil
}

// run drives the server on o.port with the requests in file for o.duration. The options are the scenario's, not
// the runner's: a reference server listens on a port of its own.
func (w *wrkRunner) run(ctx context.Context, o options, file string) (wrkSummary, error) {
	out, err := exec.CommandContext(ctx, "wrk", wrkArgs(o, w.script(), file)...).CombinedOutput()
	if err != nil {
		return wrkSummary{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	sum, err := parseWrk(out)
	if err != nil {
		return sum, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return sum, nil
}

// wrkArgs is wrk's command line, also shown in the report: one thread count, o.concurrency keep-alive
// connections, the scenario's requests passed on to the script.
func wrkArgs(o options, script, file string) []string {
	secs := max(int(math.Ceil(o.duration.Seconds())), 1) // wrk takes whole seconds
	return []string{
		"-t" + strconv.Itoa(wrkThreads), "-c" + strconv.Itoa(o.concurrency), "-d" + strconv.Itoa(secs) + "s", "--timeout", "30s",
		"-s", script, fmt.Sprintf("http://127.0.0.1:%d", o.port), "--", file, strconv.Itoa(wrkThreads),
	}
}

func parseWrk(out []byte) (wrkSummary, error) {
	var sum wrkSummary
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), wrkResultPrefix); ok {
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				return sum, fmt.Errorf("the result line: %w", err)
			}
			if sum.DurationMicros <= 0 {
				return sum, errors.New("the result line: no duration")
			}
			return sum, nil
		}
	}
	return sum, errors.New("no result line")
}

// wrkVersion is the version wrk prints in its usage text (it has no version flag of its own).
func wrkVersion() string {
	out, _ := exec.Command("wrk", "--version").CombinedOutput()
	fields := strings.Fields(string(out))
	if len(fields) < 2 || fields[0] != "wrk" {
		return "wrk"
	}
	return "wrk " + fields[1]
}

// microseconds converts wrk's microsecond figures.
func microseconds(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
