// SPDX-License-Identifier: GPL-2.0-only
/**
 * The deterministic baton scheduler: how the simulator runs ordinary blocking Java code (vCPU threads in
 * {@code run()}, userfaultfd handler threads, the test's main thread) so that the same seed gives bit-identical
 * results and virtual timings, however the host schedules real threads.
 *
 * <h2>The baton</h2>
 * Every simulated thread is a real Java thread, but only one runs at a time: the one holding the baton. The
 * others are parked ({@link java.util.concurrent.locks.LockSupport#park}), so hundreds of simulated threads cost
 * no CPU. A thread becomes simulated with {@link dev.kvmharness.mmu.sched.SimScheduler#attachCurrent} (the VM's
 * creating thread, once) or {@link dev.kvmharness.mmu.sched.SimScheduler#spawn} (called by the baton holder);
 * nothing else may call into the simulation.
 *
 * <h2>Virtual time</h2>
 * Each thread has a clock in virtual ns, advanced by the cost model ({@link dev.kvmharness.mmu.sched.Cost},
 * {@link dev.kvmharness.mmu.sched.CostModel}) through {@code charge} and {@code advance}, which are not
 * scheduling points. At a scheduling point ({@code yieldPoint}, {@code sleep}, and the start of every blocking
 * call) the baton goes to the runnable thread with the smallest virtual time; equal times are ordered by a
 * generator seeded from the scheduler's seed. Between scheduling points a thread runs ahead of the others (a vCPU
 * hitting in its TLB need not hand off); shared state should therefore be read or changed after a scheduling
 * point, which is why lock acquisition and waits begin with one. Lock waits, sleeps, RCU grace periods and event
 * waits all pass in virtual time; a woken thread resumes at max(its time, its waker's time).
 *
 * <h2>Rules for simulated code</h2>
 * <ul>
 * <li><b>Never block on a real Java monitor, lock, latch, future, queue or {@code Thread.sleep} while simulated.</b>
 * The blocked thread still holds the baton, so every other simulated thread stops with it and the simulation
 * hangs. All blocking goes through {@link dev.kvmharness.mmu.sched.WaitQueue},
 * {@link dev.kvmharness.mmu.sched.SimRwLock}, {@link dev.kvmharness.mmu.sched.SimScheduler#join},
 * {@link dev.kvmharness.mmu.sched.SimScheduler#sleep} and {@link dev.kvmharness.mmu.sched.Rcu}.</li>
 * <li>A loop that waits for another thread by polling must charge time and call {@code yieldPoint} on every
 * iteration (as a guest spin loop charges its instructions); a loop that never advances its clock can starve
 * threads with later clocks.</li>
 * <li>Determinism comes from the seed and the simulated code alone: no wall-clock time, no
 * {@code ThreadLocalRandom}/{@code Math.random}, no iteration over identity-hashed collections to make a
 * decision. Use {@link dev.kvmharness.mmu.sched.SimScheduler#random()} for seeded policy choices. Interrupts of
 * simulated threads are ignored by the scheduler (the flag is preserved).</li>
 * <li>RCU callbacks run inside whichever thread reaches a scheduling point after their grace period, and must
 * not block or yield.</li>
 * </ul>
 *
 * <h2>Deadlock, livelock and shutdown</h2>
 * When a thread blocks (or ends) and no thread is runnable and none waits with a deadline, while the attached
 * thread is still in the simulation, every blocked thread gets
 * {@link dev.kvmharness.mmu.sched.SimDeadlockException} from its blocking call. Its message names the seed and,
 * for each blocked thread, what it waits on and its virtual time, so a failing test prints the seed that replays
 * it instead of hanging. A livelock (a thread that stays runnable but repeats the same step forever, such as a
 * page fault that returns RET_PF_RETRY without end) looks like progress to the scheduler: the thread runs and its
 * clock moves. The loops that can spin that way therefore count their iterations that found nothing changed and,
 * past a bound (a low one once {@link dev.kvmharness.mmu.sched.SimScheduler#othersMayAct} says no other thread
 * is left to change anything), throw {@link dev.kvmharness.mmu.sched.SimLivelockException}
 * ({@link dev.kvmharness.mmu.sched.SimScheduler#livelock}), naming what looped, the thread, its virtual time and
 * the seed; the bounds count iterations, not wall time, so the same seed fails at the same point. After the
 * attached thread detaches, blocked threads simply wait for {@link dev.kvmharness.mmu.sched.SimScheduler#close()},
 * which makes every remaining thread throw {@link dev.kvmharness.mmu.sched.SimShutdownException} from its blocking
 * call or next scheduling point, and waits (in real time, bounded) for them to end. Shutdown itself is not part of
 * the deterministic run.
 */
package dev.kvmharness.mmu.sched;
