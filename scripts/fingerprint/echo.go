// A Go gorilla/websocket echo server for scripts/fingerprint.sh (binds 127.0.0.1:PORT, any Origin).
// Usage: echo PORT   (built by the script with Debian's golang-github-gorilla-websocket-dev)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return true }}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		t, m, err := c.ReadMessage()
		if err != nil {
			return
		}
		if c.WriteMessage(t, m) != nil {
			return
		}
	}
}

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		panic(err)
	}
	fmt.Println(`{"event":"listening"}`)
	http.Serve(l, http.HandlerFunc(echo))
}
