// Package lossyproxy is a TCP proxy for tests that loses answers the way a real network does after a request
// arrived: it forwards each request whole, reads the server's whole answer (so the request was served and its
// write committed), and closes the client's connection without sending it. Clients that retry safely are tested
// through it.
package lossyproxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// Proxy forwards to one server; Drop sets how many of the next answers it loses.
type Proxy struct {
	ln      net.Listener
	target  string
	pending atomic.Int32
	dropped atomic.Int32
}

// New starts a proxy to target (host:port) on loopback, closed when t ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("lossyproxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(conn)
		}
	}()
	return p
}

// URL is the proxy's base URL.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Drop makes the proxy lose the next n answers.
func (p *Proxy) Drop(n int) { p.pending.Store(int32(n)) }

// Dropped is how many answers the proxy has lost.
func (p *Proxy) Dropped() int { return int(p.dropped.Load()) }

func (p *Proxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	in, out := bufio.NewReader(client), bufio.NewReader(server)
	for {
		req, err := http.ReadRequest(in)
		if err != nil {
			return
		}
		if err := req.Write(server); err != nil {
			return
		}
		resp, err := http.ReadResponse(out, req)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if p.pending.Add(-1) >= 0 {
			p.dropped.Add(1)
			return // the answer never reaches the client
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		if err := resp.Write(client); err != nil {
			return
		}
	}
}
