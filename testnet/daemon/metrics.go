package daemon

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
)

// The metrics are read at scrape time from the counters the node, the host
// and the store keep anyway (the collector pattern), so exporting them adds
// nothing to the path of a request. The one exception is the batch-size
// histogram, observed once per executed batch (not per request) with one
// atomic add.
//
// Families (all prefixed bftbed_):
//
//	replica:  view, view_changing, primary, last_executed_seq,
//	          stable_checkpoint_seq, committed_requests_total,
//	          committed_batches_total, batch_size_requests (histogram),
//	          view_changes_total, uptime_seconds, info{cluster,replica}
//	messages: messages_in_total{type}, messages_out_total{type},
//	          frames_received_total, malformed_frames_total,
//	          rejected_messages_total, signature_failures_total,
//	          core_steps_total
//	queues:   verify_queue_depth, core_queue_depth, p2p_queue_depth{peer}
//	p2p:      peers_connected, peer_up{peer}, p2p_connections,
//	          p2p_frames_in_total{peer}, p2p_frames_out_total{peer},
//	          p2p_bytes_in_total{peer}, p2p_bytes_out_total{peer},
//	          p2p_dropped_total{peer}, p2p_lost_total{peer},
//	          p2p_reconnects_total{peer}, p2p_garbage_frames_total,
//	          p2p_gossip_rejected_total, p2p_unroutable_total,
//	          p2p_blocked_peers
//	storage:  storage_saves_total, storage_bytes_total,
//	          storage_requests_total, storage_compactions_total,
//	          storage_disk_usage_bytes
//
// {peer} is a replica ID, "clients" (all clients together) or "gossip"
// (the GossipSub path). Go runtime and process metrics (go_*, process_*)
// come with them.
const namespace = "bftbed"

// metrics is a daemon's private Prometheus registry: two daemons in one
// process (tests, examples/embed) each export their own, and nothing
// reaches the global registry.
type metrics struct {
	reg       *prometheus.Registry
	batchSize prometheus.Histogram
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "batch_size_requests",
			Help: "Requests per executed batch (null batches count 0).",
			// 1 to 1024: pbft.MaxBatch defaults to 256.
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
	}
	m.reg.MustRegister(
		m.batchSize,
		&collector{d: d},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	descInfo          = desc("info", "Always 1; labels name the replica and its cluster.", "cluster", "replica")
	descUptime        = desc("uptime_seconds", "Seconds since the daemon started.")
	descView          = desc("view", "Current view.")
	descViewChanging  = desc("view_changing", "1 while the replica is changing views.")
	descPrimary       = desc("primary", "Primary of the current view.")
	descLastExecuted  = desc("last_executed_seq", "Sequence number of the last executed batch.")
	descStableSeq     = desc("stable_checkpoint_seq", "Sequence number of the last stable checkpoint.")
	descCommittedReqs = desc("committed_requests_total", "Requests executed since the daemon started.")
	descCommittedBat  = desc("committed_batches_total", "Batches executed since the daemon started.")
	descViewChanges   = desc("view_changes_total", "Times the replica moved to a higher view.")
	descMsgIn         = desc("messages_in_total", "Decoded inbound messages, by type, before signature checks.", "type")
	descMsgOut        = desc("messages_out_total", "Messages handed to the transport, by type (a broadcast counts once).", "type")
	descFrames        = desc("frames_received_total", "Frames read from the transport.")
	descMalformed     = desc("malformed_frames_total", "Inbound frames that did not decode.")
	descRejected      = desc("rejected_messages_total", "Decoded messages dropped before verification (REPLY, unknown replica).")
	descBadSig        = desc("signature_failures_total", "Messages dropped for an invalid signature.")
	descSteps         = desc("core_steps_total", "Core steps (messages and timer fires).")
	descVerifyQueue   = desc("verify_queue_depth", "Frames waiting to be decoded and verified.")
	descCoreQueue     = desc("core_queue_depth", "Authentic messages waiting for the core.")
	descPeerQueue     = desc("p2p_queue_depth", "Frames waiting in a peer's outbound queue.", "peer")
	descPeersConn     = desc("peers_connected", "Other replicas with an open connection.")
	descPeerUp        = desc("peer_up", "1 if the replica has an open connection to the peer.", "peer")
	descConns         = desc("p2p_connections", "Peers (replicas and clients) with an open connection.")
	descP2PFramesIn   = desc("p2p_frames_in_total", "Frames received that passed the framing rules.", "peer")
	descP2PFramesOut  = desc("p2p_frames_out_total", "Frames written to the peer.", "peer")
	descP2PBytesIn    = desc("p2p_bytes_in_total", "Payload bytes received.", "peer")
	descP2PBytesOut   = desc("p2p_bytes_out_total", "Payload bytes written.", "peer")
	descP2PDropped    = desc("p2p_dropped_total", "Outbound frames dropped on a full queue.", "peer")
	descP2PLost       = desc("p2p_lost_total", "Outbound frames lost after leaving the queue.", "peer")
	descP2PReconnects = desc("p2p_reconnects_total", "Outbound streams reopened after a loss.", "peer")
	descGarbage       = desc("p2p_garbage_frames_total", "Inbound frames that broke the framing rules or the decoder; each disconnected its sender.")
	descGossipRej     = desc("p2p_gossip_rejected_total", "GossipSub messages the validator rejected.")
	descUnroutable    = desc("p2p_unroutable_total", "Outbound frames with no reachable destination.")
	descBlocked       = desc("p2p_blocked_peers", "Peers refused for sending garbage.")
	descSaves         = desc("storage_saves_total", "Synced batches committed to the store.")
	descSavedBytes    = desc("storage_bytes_total", "Bytes of the synced batches (what went to the WAL).")
	descSavedReqs     = desc("storage_requests_total", "Requests in the executed batches saved.")
	descCompactions   = desc("storage_compactions_total", "Background compactions completed.")
	descDiskUsage     = desc("storage_disk_usage_bytes", "Bytes the store occupies on disk.")
)

var allDescs = []*prometheus.Desc{
	descInfo, descUptime, descView, descViewChanging, descPrimary, descLastExecuted, descStableSeq,
	descCommittedReqs, descCommittedBat, descViewChanges, descMsgIn, descMsgOut, descFrames,
	descMalformed, descRejected, descBadSig, descSteps, descVerifyQueue, descCoreQueue, descPeerQueue,
	descPeersConn, descPeerUp, descConns, descP2PFramesIn, descP2PFramesOut, descP2PBytesIn,
	descP2PBytesOut, descP2PDropped, descP2PLost, descP2PReconnects, descGarbage, descGossipRej,
	descUnroutable, descBlocked, descSaves, descSavedBytes, descSavedReqs, descCompactions, descDiskUsage,
}

// collector reads a daemon's counters at scrape time.
type collector struct{ d *Daemon }

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}

	st, nst := d.node.Status(), d.node.Stats()
	gauge(descInfo, 1, d.cfg.Cluster, strconv.Itoa(d.cfg.ID))
	gauge(descUptime, d.uptime().Seconds())
	gauge(descView, float64(st.View))
	gauge(descViewChanging, b2f(st.ViewChanging))
	gauge(descPrimary, float64(st.Primary))
	gauge(descLastExecuted, float64(st.LastExecuted))
	gauge(descStableSeq, float64(st.StableSeq))
	counter(descCommittedReqs, nst.CommittedRequests)
	counter(descCommittedBat, nst.CommittedBatches)
	counter(descViewChanges, nst.ViewChanges)
	for t := range nst.In {
		name := pbft.MsgType(t).String()
		if name == "UNKNOWN" {
			continue
		}
		counter(descMsgIn, nst.In[t], name)
		counter(descMsgOut, nst.Out[t], name)
	}
	counter(descFrames, nst.Frames)
	counter(descMalformed, nst.Malformed)
	counter(descRejected, nst.Rejected)
	counter(descBadSig, nst.BadSignature)
	counter(descSteps, nst.Steps)
	gauge(descVerifyQueue, float64(nst.VerifyQueue))
	gauge(descCoreQueue, float64(nst.CoreQueue))

	hs := d.host.Stats()
	connected := 0
	for _, p := range hs.Replicas {
		if p.Connected {
			connected++
		}
		peer := strconv.Itoa(int(p.Replica))
		gauge(descPeerUp, b2f(p.Connected), peer)
		peerCounters(ch, peer, p)
	}
	peerCounters(ch, "clients", hs.Clients)
	if d.cfg.Broadcast == "gossip" {
		peerCounters(ch, "gossip", hs.Gossip)
	}
	gauge(descPeersConn, float64(connected))
	gauge(descConns, float64(hs.ConnectedPeers))
	counter(descGarbage, hs.GarbageFrames)
	counter(descGossipRej, hs.GossipRejected)
	counter(descUnroutable, hs.Unroutable)
	gauge(descBlocked, float64(hs.Blocked))

	ss := d.store.Stats()
	counter(descSaves, ss.Saves)
	counter(descSavedBytes, ss.Bytes)
	counter(descSavedReqs, ss.Requests)
	counter(descCompactions, ss.Compactions)
	gauge(descDiskUsage, float64(d.store.DiskUsage()))
}

// peerCounters exports one peer's (or aggregate's) traffic counters.
func peerCounters(ch chan<- prometheus.Metric, peer string, p p2p.PeerStats) {
	for _, m := range []struct {
		desc *prometheus.Desc
		v    uint64
	}{
		{descP2PFramesIn, p.FramesIn}, {descP2PFramesOut, p.FramesOut},
		{descP2PBytesIn, p.BytesIn}, {descP2PBytesOut, p.BytesOut},
		{descP2PDropped, p.Dropped}, {descP2PLost, p.Lost}, {descP2PReconnects, p.Reconnects},
	} {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.v), peer)
	}
	ch <- prometheus.MustNewConstMetric(descPeerQueue, prometheus.GaugeValue, float64(p.QueueDepth), peer)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
