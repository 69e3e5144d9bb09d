// The etcd server, built from its Go module. `go install go.etcd.io/etcd/server/v3@…` refuses
// the module because its go.mod has `replace ../api` directives; a module of our own that
// requires it (and resolves the replaced modules from the proxy) builds the same server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
