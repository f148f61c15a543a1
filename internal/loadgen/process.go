package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a running docuvault binary: `PATH serve`, configured by the environment only,
// its log in a file of its own.
type Process struct {
	URL     string // http://127.0.0.1:port
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // set when exited is closed
}

// freeAddr is a loopback address nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartBinary runs `bin serve` with env (DOCUVAULT_* settings; every DOCUVAULT_* variable of
// this process is left out so nothing but env configures it) listening on a free loopback
// port, and returns once /readyz answers 200, with how long that took from the exec.
func StartBinary(ctx context.Context, bin, logPath string, env map[string]string, timeout time.Duration) (*Process, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, 0, err
	}
	defer log.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCUVAULT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DOCUVAULT_SERVER_LISTEN="+addr)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = log, log
	p := &Process{URL: "http://" + addr, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := hc.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(start), nil
			}
		}
		select {
		case <-p.exited:
			return nil, 0, fmt.Errorf("%s exited before ready (%v): %s", bin, p.err, p.LogTail())
		case <-ctx.Done():
			p.Stop()
			return nil, 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, 0, fmt.Errorf("%s not ready after %v: %s", bin, timeout, p.LogTail())
		}
	}
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits for the exit (SIGKILL after 30 s); an exit other than 0 after
// SIGTERM is an error.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
		return fmt.Errorf("exited before it was stopped: %v: %s", p.err, p.LogTail())
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("did not stop within 30 s of SIGTERM; killed")
	}
	if p.err != nil {
		return fmt.Errorf("exit after SIGTERM: %w: %s", p.err, p.LogTail())
	}
	return nil
}

// LogTail is the last lines of the process's log, for error messages.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// Memory is what /proc/PID/status says of a process's resident memory, in bytes.
type Memory struct {
	RSS     int64 // VmRSS
	RSSFile int64 // the mapped files' part of it (the binary's own pages, mostly)
}

// MemoryOf reads /proc/PID/status.
func MemoryOf(pid int) (Memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "RssFile":
			dst = &m.RSSFile
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return m, nil
}
