#!/usr/bin/env bash
# `make demo`: start a dev agent in the background, run examples/hello.hcl,
# and show where each instance answers. `make demo-stop` stops the agent.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.demo
bin=bin/drover
export DROVER_ADDR=${DROVER_ADDR:-http://127.0.0.1:4746}

if [[ "${1:-}" == "stop" ]]; then
	if [[ -f $state/agent.pid ]] && kill -0 "$(cat $state/agent.pid)" 2>/dev/null; then
		$bin job stop -purge hello >/dev/null 2>&1 || true
		kill "$(cat $state/agent.pid)"
		echo "==> dev agent stopped"
	else
		echo "==> no demo agent is running"
	fi
	rm -f $state/agent.pid
	exit 0
fi

mkdir -p $state
if [[ -f $state/agent.pid ]] && kill -0 "$(cat $state/agent.pid)" 2>/dev/null; then
	echo "==> a demo agent is already running (pid $(cat $state/agent.pid))"
else
	$bin agent -dev >"$state/agent.log" 2>&1 &
	echo $! >$state/agent.pid
	echo "==> started drover agent -dev (pid $!, log $state/agent.log)"
fi

for _ in $(seq 1 100); do
	curl -fsS "$DROVER_ADDR/v1/status/leader" >/dev/null 2>&1 && break
	sleep 0.1
done
# The node registers just after the leader is elected.
for _ in $(seq 1 100); do
	[[ "$(curl -fsS "$DROVER_ADDR/v1/nodes" 2>/dev/null)" == *'"ready"'* ]] && break
	sleep 0.1
done

$bin job run examples/hello.hcl

echo
echo "==> instances of job \"hello\":"
for _ in $(seq 1 100); do
	[[ $($bin job status hello | grep -c ' running ') -ge 2 ]] && break
	sleep 0.2
done
for id in $($bin job status hello | awk '$3 == "web" && $6 == "running" {print $1}'); do
	addr=$($bin alloc status "$id" | awk '$1 == "http" {print $2}')
	echo "    alloc $id: http://$addr/"
done
echo
echo "==> try:  curl http://<address>/    bin/drover job status hello    bin/drover alloc logs <alloc>"
echo "==> stop: make demo-stop   (purges the job and stops the agent)"
