package server_test

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// dbProxy stands between the server and PostgreSQL so a test can make the database hang
// (freeze: bytes go in, nothing comes back, the way a database stopped with SIGSTOP looks
// from outside), restart (setStarting: open connections cut, new ones answered 57P03 "the
// database system is starting up") or vanish (close: the port closes).
type dbProxy struct {
	l        net.Listener
	upstream string
	mu       sync.Mutex
	starting bool
	thawed   chan struct{} // closed while bytes flow
	conns    map[net.Conn]bool
}

func startDBProxy(t *testing.T, upstream string) *dbProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{l: l, upstream: upstream, thawed: make(chan struct{}), conns: map[net.Conn]bool{}}
	close(p.thawed)
	t.Cleanup(p.close)
	go p.serve()
	return p
}

// addr is where the server should connect instead of the database.
func (p *dbProxy) addr() string { return p.l.Addr().String() }

func (p *dbProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		starting := p.starting
		p.conns[c] = true
		p.mu.Unlock()
		if starting {
			go refuseStartingUp(c)
			continue
		}
		go p.forward(c)
	}
}

func (p *dbProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = true
	p.mu.Unlock()
	go p.pump(c, up)
	p.pump(up, c)
}

// pump copies src to dst, holding every chunk while the proxy is frozen.
func (p *dbProxy) pump(src, dst net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.thawed
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *dbProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.thawed = make(chan struct{})
}

func (p *dbProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// refuseStartingUp answers a startup message the way a PostgreSQL that is starting does.
func refuseStartingUp(c net.Conn) {
	defer c.Close()
	var n uint32
	if binary.Read(c, binary.BigEndian, &n) != nil || n < 8 || n > 10000 {
		return
	}
	if _, err := io.CopyN(io.Discard, c, int64(n-4)); err != nil {
		return
	}
	var fields []byte
	for _, f := range [][2]string{{"S", "FATAL"}, {"V", "FATAL"}, {"C", "57P03"}, {"M", "the database system is starting up"}} {
		fields = append(append(append(fields, f[0][0]), f[1]...), 0)
	}
	fields = append(fields, 0)
	msg := append([]byte{'E'}, binary.BigEndian.AppendUint32(nil, uint32(len(fields)+4))...)
	c.Write(append(msg, fields...))
}

// setStarting cuts every open connection and answers new ones 57P03 (starting=true), or
// forwards new ones again (false).
func (p *dbProxy) setStarting(starting bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting = starting
	if starting {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// close closes the port and every connection: the database is unreachable.
func (p *dbProxy) close() {
	p.thaw()
	p.l.Close()
	p.setStarting(true)
}
