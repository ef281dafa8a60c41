// Package benchsuite is the logic of cmd/benchsuite ("make bench"): it
// runs the Go benchmarks of the codec, the campus code and the journal
// (by exec'ing go test and parsing its output), runs the load figures in
// this process with gateway/testbed/posim (the bare gnet echo baseline and the
// gateway interleaved in halves, durable purchases closed loop and paced,
// the lunch-peak mix against the reference centre's payment simulator),
// runs the durable purchases again with the gateway (ecardgw serve) and
// the simulated terminals (posim run) each in a process of its own, built
// from this tree and stopped by the suite however the step ends,
// measures memory per idle signed-in terminal on a gateway in a child
// process, the time to ready after a restart over a large journal (warm
// and cold page cache) and the forwarder's drain rate to the reference
// centre and to JetStream, and writes docs/BENCHMARKS.md with the machine,
// the commands, the figures, their ratios to the baseline measured in the
// same run, the goals met or missed and, for a miss, what the profiles
// (CPU, block, heap) and the gateway's own metrics showed.
//
// It is not part of "make test": a full run takes minutes, loads the
// machine, and drops the page cache when it may. Its own tests cover the
// output parser, the profile readers and the document writer.
package benchsuite
