package topology

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// natsClusterName names the JetStream cluster the nodes form.
const natsClusterName = "herald"

// natsNode is the ports and files of one nats-server.
type natsNode struct {
	client, cluster, monitor int
	dir                      string
}

// natsConfig writes node i's configuration file and returns its path:
// JetStream on, a store of its own, routes to every node.
func (t *Topology) natsConfig(i int) (string, error) {
	n := t.nats[i]
	routes := make([]string, len(t.nats))
	for j, m := range t.nats {
		routes[j] = fmt.Sprintf("%q", "nats-route://"+net.JoinHostPort(t.opts.Host, strconv.Itoa(m.cluster)))
	}
	conf := fmt.Sprintf(`server_name: %q
listen: %q
http: %q
jetstream {
  store_dir: %q
%s}
`, natsServerName(i), hostPort(t.opts.Host, n.client), hostPort(t.opts.Host, n.monitor), filepath.Join(n.dir, "jetstream"), t.natsJetStreamLimits())
	if !t.natsStandalone() {
		conf += fmt.Sprintf(`cluster {
  name: %q
  listen: %q
  routes: [%s]
%s}
`, natsClusterName, hostPort(t.opts.Host, n.cluster), strings.Join(routes, ", "), t.natsClusterExtra())
	}
	path := filepath.Join(n.dir, "nats.conf")
	if err := os.MkdirAll(n.dir, dirPerm); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(conf), filePerm)
}

// natsStandalone reports whether the one NATS node runs JetStream
// without a cluster block: a cluster of one never finishes recovering
// its meta layer.
func (t *Topology) natsStandalone() bool { return t.opts.NATSNodes == 1 }

// NATSURL lists every node's client URL, as herald's --nats-url takes it.
func (t *Topology) NATSURL() string {
	urls := make([]string, len(t.nats))
	for i, n := range t.nats {
		urls[i] = "nats://" + hostPort(t.opts.Host, n.client)
	}
	return strings.Join(urls, ",")
}

// natsHealthy reports whether node i is current with the cluster
// (/healthz) and knows the JetStream meta leader (/jsz): before there is
// one, creating a replicated stream or bucket times out.
func (t *Topology) natsHealthy(i int) bool {
	base := "http://" + hostPort(t.opts.Host, t.nats[i].monitor)
	if httpStatus(base+"/healthz") != http.StatusOK {
		return false
	}
	if t.natsStandalone() {
		// No meta leader to wait for.
		return true
	}
	res, err := probeClient.Get(base + "/jsz")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var jsz struct {
		Meta struct {
			Leader string `json:"leader"`
		} `json:"meta_cluster"`
	}
	return json.NewDecoder(res.Body).Decode(&jsz) == nil && jsz.Meta.Leader != ""
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// StreamLeader is the index of the NATS node that leads stream (Herald's
// messages are HERALD_MSG), as the nodes' monitoring endpoints report it;
// ErrNoProcess when no running node names a leader.
func (t *Topology) StreamLeader(stream string) (int, error) {
	for i := range t.nats {
		leader, ok := t.streamLeaderSeenBy(i, stream)
		if !ok {
			continue
		}
		for j := range t.nats {
			if leader == natsServerName(j) {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("leader of stream %s: %w", stream, ErrNoProcess)
}

// streamLeaderSeenBy is the server name node i reports as stream's
// leader.
func (t *Topology) streamLeaderSeenBy(i int, stream string) (string, bool) {
	res, err := probeClient.Get("http://" + hostPort(t.opts.Host, t.nats[i].monitor) + "/jsz?streams=true")
	if err != nil {
		return "", false
	}
	defer res.Body.Close()
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name    string `json:"name"`
				Cluster struct {
					Leader string `json:"leader"`
				} `json:"cluster"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if json.NewDecoder(res.Body).Decode(&jsz) != nil {
		return "", false
	}
	for _, a := range jsz.Accounts {
		for _, st := range a.Streams {
			if st.Name == stream && st.Cluster.Leader != "" {
				return st.Cluster.Leader, true
			}
		}
	}
	return "", false
}

// natsServerName is node i's server_name.
func natsServerName(i int) string { return fmt.Sprintf("n%d", i) }
