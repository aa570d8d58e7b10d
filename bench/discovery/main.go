// Command discovery prints the figures of service discovery and load
// balancing, each measured in one run on this machine:
//
//   - gossip: the time for a health change made on one node to reach the
//     catalog of every member of a pool of -members real memberlist
//     members (the agent's own membership pool carrying the client
//     catalog, on 127.0.0.1), p50/p99/max over -flips changes
//     (target: p99 ≤ 2 s), and the (member, change) pairs that no
//     broadcast reached (target: 0);
//   - dns: queries per second one client's DNS server answers, with the
//     catalog holding -dns-services services of 3 instances, from
//     -dns-clients concurrent UDP clients in this process;
//   - balancer: wrk (Debian package wrk) against a small HTTP backend
//     process, directly and through the node's ingress in http and tcp
//     mode, the same load one after the other, -rounds times; requests/s
//     and p50/p99 latency, and the balancer's ratios to direct
//     (targets: throughput ≥ 0.8×, p99 ≤ 1.2×), for a backend that answers
//     at once and one that spends 5 ms on each request; the same for
//     haproxy, as a reference, when it is installed.
//
// `make bench-discovery` runs it. -only picks sections.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if os.Getenv(backendEnv) != "" {
		// This same binary, started by the balancer section as its backend.
		if err := serveBackend(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench-discovery backend:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.only, "only", "gossip,dns,balancer", "sections to run, comma-separated: gossip, dns, balancer")
	flag.IntVar(&o.members, "members", 30, "gossip: members of the pool")
	flag.IntVar(&o.flips, "flips", 40, "gossip: health changes measured")
	flag.IntVar(&o.retransmitMult, "retransmit-mult", 0, "gossip: the catalogs' RetransmitMult (0: the catalog's default)")
	flag.IntVar(&o.dnsServices, "dns-services", 100, "dns: services in the catalog (3 instances each)")
	flag.IntVar(&o.dnsClients, "dns-clients", 8, "dns: concurrent UDP clients")
	flag.DurationVar(&o.dnsDuration, "dns-duration", 5*time.Second, "dns: how long queries are sent")
	flag.IntVar(&o.rounds, "rounds", 3, "balancer: rounds of direct, http and tcp runs (the median is reported)")
	flag.DurationVar(&o.wrkDuration, "duration", 5*time.Second, "balancer: length of each wrk run")
	flag.IntVar(&o.connections, "connections", 32, "balancer: wrk's open connections")
	flag.StringVar(&o.work, "work", "0,5ms", "balancer: scenarios, comma-separated: the time the backend spends on each request (0: it answers at once)")
	flag.StringVar(&o.modes, "modes", "http,tcp", "balancer: ingress modes compared with direct, comma-separated: http, tcp")
	flag.BoolVar(&o.haproxy, "haproxy", true, "balancer: also measure haproxy (Debian package haproxy) as a reference, when it is installed")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to this file (with -only balancer, it is the balancer's: wrk and the backend run in processes of their own)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-discovery:", err)
		os.Exit(1)
	}
}

type options struct {
	only        string
	members     int
	flips       int
	dnsServices int
	dnsClients  int
	dnsDuration time.Duration
	rounds      int
	wrkDuration time.Duration
	connections int
	work        string
	cpuProfile  string
	modes       string
	haproxy     bool
	// retransmitMult is the catalogs' Config.RetransmitMult (gossip).
	retransmitMult int
}

// row is one line of the table.
type row struct {
	figure, value, target, verdict string
}

func run(o options) error {
	sections := map[string]bool{}
	for _, s := range strings.Split(o.only, ",") {
		switch s = strings.TrimSpace(s); s {
		case "gossip", "dns", "balancer":
			sections[s] = true
		default:
			return fmt.Errorf("-only: unknown section %q (want gossip, dns or balancer)", s)
		}
	}
	if o.members < 2 || o.flips < 1 || o.dnsServices < 1 || o.dnsClients < 1 || o.rounds < 1 || o.connections < 1 {
		return fmt.Errorf("-members must be at least 2 and -flips, -dns-services, -dns-clients, -rounds, -connections at least 1")
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("bench-discovery: %d CPUs, %s; numbers of one run on this machine\n\n", runtime.NumCPU(), runtime.Version())
	var rows []row
	var failures []string
	if sections["gossip"] {
		r, err := benchGossip(o, os.Stderr)
		if err != nil {
			failures = append(failures, "gossip: "+err.Error())
		}
		rows = append(rows, r...)
	}
	if sections["dns"] {
		r, err := benchDNS(o, os.Stderr)
		if err != nil {
			failures = append(failures, "dns: "+err.Error())
		}
		rows = append(rows, r...)
	}
	if sections["balancer"] {
		r, err := benchBalancer(o, os.Stderr)
		if err != nil {
			failures = append(failures, "balancer: "+err.Error())
		}
		rows = append(rows, r...)
	}
	printTable(os.Stdout, rows)
	if len(failures) > 0 {
		return fmt.Errorf("%s", strings.Join(failures, "; "))
	}
	return nil
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tTARGET\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.figure, r.value, r.target, r.verdict)
	}
	_ = tw.Flush()
}

// verdict says whether a figure meets its target.
func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
