#!/usr/bin/env bash
# Unsticks a RabbitMQ node left paused after a network partition heals by the Erlang `global` hang of RabbitMQ
# 3.10.8 (Debian 12's package) on Erlang/OTP 25.1+: the paused node's broker restarts, `global` synchronisation with
# a peer never finishes, and RabbitMQ's own workaround ("Global hang workaround … Faking nodedown/nodeup" in its
# log) sends messages OTP 25's `global` ignores (fixed upstream in 3.10.9 and later: rabbitmq-server#6046). Does what
# that fixed workaround achieves, with a real disconnect: on a node whose broker is not running, a peer whose
# `global` sync has not moved for 10 s is disconnected; both sides see a real nodedown, the next contact starts a
# fresh sync, and the broker finishes starting. A node whose broker runs is never touched (a disconnect there would be a
# partial partition). Run on every RabbitMQ node every 15 s (rabbitmq-global-sync-watchdog.timer); the test cluster
# runs it on a healed node (test/support/rabbit-cluster.ts). Harmless on a RabbitMQ that does not have the bug.
#
# Usage: global-sync-watchdog.sh [node name]    (default: rabbitmqctl's own default node, rabbit@<host>)
# Prints the peers it disconnected, if any. Exits non-zero when the node could not be asked.
set -euo pipefail

RABBITMQCTL=${RABBITMQCTL:-rabbitmqctl}
node_args=()
if [[ $# -gt 0 ]]; then node_args=(-n "$1"); fi

# global_name_server keeps {sync_tag_his, Peer} in its process dictionary while a sync with Peer is under way; the
# same tag 10 s later is a sync that is not moving.
read -r -d '' CHECK <<'ERL' || true
case rabbit:is_running() of
  true -> [];
  false ->
    Tags = fun() ->
      case whereis(global_name_server) of
        undefined -> [];
        G -> {dictionary, D} = erlang:process_info(G, dictionary), [{N, T} || {{sync_tag_his, N}, T} <- D]
      end
    end,
    Before = Tags(),
    timer:sleep(10000),
    Stuck = [N || {N, T} <- Tags(), lists:member({N, T}, Before), lists:member(N, nodes())],
    [erlang:disconnect_node(N) || N <- Stuck],
    Stuck
end.
ERL

stuck=$("$RABBITMQCTL" "${node_args[@]}" -q eval "$CHECK")
if [[ "$stuck" != "[]" ]]; then
  echo "global sync stuck with ${stuck}: disconnected (the broker finishes starting on the next sync)"
fi
