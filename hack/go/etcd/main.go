// Command etcd is upstream etcd's server: the same three lines as go.etcd.io/etcd/server/v3's own main,
// which cannot be `go install`ed because etcd's go.mod carries replace directives.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
