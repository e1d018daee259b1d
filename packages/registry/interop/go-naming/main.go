// go-naming: etcd's own Go naming packages (clientv3/naming/endpoints and the grpc-go resolver
// in clientv3/naming/resolver, etcd 3.4.23 as Debian ships it), driven from the command line so
// the registry's `go-endpoints` layout can be checked against the real Go code.
//
//	go-naming <etcd> list <target>            prints the target's endpoints as JSON (Manager.List)
//	go-naming <etcd> add <target> <addr> <s>  AddEndpoint("<target>/<addr>") under a fresh lease of
//	                                          <s> seconds, kept alive; prints "added <lease hex>"
//	go-naming <etcd> dial <target> <n>        dials etcd:///<target> with round_robin and makes <n>
//	                                          gRPC health checks, printing each answering peer
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/naming/endpoints"
	"go.etcd.io/etcd/clientv3/naming/resolver"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

func main() {
	if len(os.Args) < 4 {
		fail(fmt.Errorf("usage: go-naming <etcd> list|add|dial <target> ..."))
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{os.Args[1]}, DialTimeout: 5 * time.Second})
	if err != nil {
		fail(err)
	}
	defer client.Close()
	target := os.Args[3]
	switch os.Args[2] {
	case "list":
		list(client, target)
	case "add":
		add(client, target, os.Args[4], os.Args[5])
	case "dial":
		dial(client, target, os.Args[4])
	default:
		fail(fmt.Errorf("unknown command %s", os.Args[2]))
	}
}

func list(client *clientv3.Client, target string) {
	manager, err := endpoints.NewManager(client, target)
	if err != nil {
		fail(err)
	}
	found, err := manager.List(context.Background())
	if err != nil {
		fail(err)
	}
	out, _ := json.Marshal(found)
	fmt.Println(string(out))
}

func add(client *clientv3.Client, target, addr, ttl string) {
	seconds, err := strconv.ParseInt(ttl, 10, 64)
	if err != nil {
		fail(err)
	}
	lease, err := client.Grant(context.Background(), seconds)
	if err != nil {
		fail(err)
	}
	manager, _ := endpoints.NewManager(client, target)
	endpoint := endpoints.Endpoint{Addr: addr, Metadata: map[string]string{"lang": "go"}}
	if err := manager.AddEndpoint(context.Background(), target+"/"+addr, endpoint, clientv3.WithLease(lease.ID)); err != nil {
		fail(err)
	}
	alive, err := client.KeepAlive(context.Background(), lease.ID)
	if err != nil {
		fail(err)
	}
	fmt.Printf("added %x\n", int64(lease.ID))
	for range alive {
	}
}

func dial(client *clientv3.Client, target, count string) {
	n, err := strconv.Atoi(count)
	if err != nil {
		fail(err)
	}
	builder, _ := resolver.NewBuilder(client)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "etcd:///"+target, grpc.WithResolvers(builder), grpc.WithInsecure(),
		grpc.WithBlock(), grpc.WithDefaultServiceConfig(`{"loadBalancingPolicy":"round_robin"}`))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	for i := 0; i < n; i++ {
		var from peer.Peer
		reply, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&from))
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s %s\n", from.Addr, reply.Status)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go-naming:", err)
	os.Exit(1)
}
