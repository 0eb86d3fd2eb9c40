// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.random.RandomGenerator;

/**
 * The deterministic baton scheduler of one simulated VM: the simulator's stand-in for the kernel scheduler
 * (kernel/sched/core.c's __schedule and try_to_wake_up), in virtual time. Every simulated thread is a real Java
 * thread, but only the one holding the baton runs; the others are parked. At each scheduling point the baton goes
 * to the runnable thread with the smallest virtual time, ties broken by a generator seeded from {@link #seed()},
 * so that a run depends only on the seed and on what the simulated code does. See the package documentation for
 * the rules simulated code must follow.
 */
public final class SimScheduler implements AutoCloseable {
    /** Deadline meaning "none" for timed waits. */
    static final long NO_DEADLINE = Long.MAX_VALUE;
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Upper bound of the adaptive spin before parking while waiting for the baton. A partner that hands the baton
     * straight back (ping-pong between two threads) then costs no futex calls: measured 1-6 M handoffs/s against
     * 0.2-0.3 M with park/unpark alone, on a busy 2-CPU host. Threads that wait long halve their budget on every
     * park, so they soon park at once and waste no CPU.
     */
    private static final int MAX_SPINS = 4096;
    // Spawned threads are virtual on JDK 24+ (SimThreads): then a handoff is a continuation switch and nobody spins.

    private final long seed;
    private final CostModel costs;
    /** Breaks ties between equal virtual times; separate from {@link #policyRandom} so policies cannot perturb it. */
    private final SplittableRandom tieRandom;
    private final SplittableRandom policyRandom;
    private final ReadyQueue ready = new ReadyQueue();
    /** Guards the transitions to and from "nobody holds the baton", {@link #alive} changes, and close(). */
    private final Object lock = new Object();
    /** Live threads in creation order (the order of deadlock reports and shutdown). */
    private final List<SimThread> alive = new ArrayList<>();
    private final Rcu rcu;
    /** The host's CPUs, when the run gives their number; null: every simulated thread has a CPU of its own. */
    private final HostCpus cpus;

    private volatile SimThread holder;
    private volatile boolean closing;
    private boolean closeStarted;
    private SimThread attached;
    private long nextId;
    private long handoffs;
    /** Virtual time at which the current RCU grace period can complete (or callbacks must run); MAX if never. */
    long rcuNextDue = Long.MAX_VALUE;

    /**
     * Runs {@code body} (which will attach to a scheduler, as a test's main thread does) on a thread of the kind
     * simulated threads are spawned as, and waits for it. Where those are virtual threads on one carrier, the
     * attached thread then shares that carrier with the vCPU and handler threads it spawns, and every handoff
     * between them is a continuation switch instead of waking another OS thread. Elsewhere it just runs body on
     * a new platform thread. The schedule, and so every result, is the same either way.
     */
    public static void runOnSimulationCarrier(String name, Runnable body) {
        SimThreads.runAndWait(name, body);
    }

    public SimScheduler(long seed, CostModel costs) {
        this(seed, costs, 0);
    }

    /**
     * A scheduler whose threads share {@code hostCpus} host CPUs ({@link HostCpus}); 0 gives every simulated
     * thread a CPU of its own, which is what runs without a CPU count get.
     */
    public SimScheduler(long seed, CostModel costs, int hostCpus) {
        if (hostCpus < 0) {
            throw new IllegalArgumentException("host CPUs must be at least 1 (or 0: one per thread), not " + hostCpus);
        }
        this.seed = seed;
        this.costs = Objects.requireNonNull(costs, "costs");
        this.cpus = hostCpus == 0 ? null : new HostCpus(hostCpus, costs.ns(Cost.CPU_IDLE_EXIT));
        SplittableRandom root = new SplittableRandom(seed);
        this.tieRandom = root.split();
        this.policyRandom = root.split();
        this.rcu = new Rcu(this);
    }

    public CostModel costs() {
        return costs;
    }

    public long seed() {
        return seed;
    }

    /**
     * Registers the calling real thread as a simulated thread at virtual time {@code startNs} and gives it the
     * baton. Only legal while no other simulated thread of this scheduler is alive (the VM's creating thread).
     */
    public SimThread attachCurrent(String name, long startNs) {
        Objects.requireNonNull(name, "name");
        if (startNs < 0) {
            throw new IllegalArgumentException("negative start time " + startNs + " ns");
        }
        synchronized (lock) {
            if (closeStarted) {
                throw new IllegalStateException("attachCurrent(" + name + "): the simulation is closed");
            }
            if (!alive.isEmpty()) {
                throw new IllegalStateException("attachCurrent(" + name + "): simulated threads are still alive: "
                        + names(alive));
            }
            SimThread t = new SimThread(this, name, nextId++, startNs);
            t.thread = Thread.currentThread();
            t.state = SimThread.RUNNING;
            if (cpus != null && !cpus.tryTake(t)) {
                throw new IllegalStateException("attachCurrent(" + name + "): no host CPU is free");
            }
            alive.add(t);
            attached = t;
            holder = t;
            return t;
        }
    }

    /**
     * The calling thread leaves the simulation (VM closed) and hands the baton on. Threads still alive keep
     * running in virtual time until they end or block; {@link #close()} stops them. Once the attached thread has
     * left, blocked threads are no longer reported as a deadlock: they wait for close().
     */
    public void detachCurrent() {
        SimThread cur = current();
        if (cur != attached) {
            throw new IllegalStateException("detachCurrent: thread '" + cur.name
                    + "' was started with spawn(); only the attached thread detaches, spawned ones end");
        }
        if (cur.rcuNesting > 0) {
            throw new IllegalStateException("detachCurrent: thread '" + cur.name + "' is inside an RCU read section");
        }
        leave(cur);
    }

    /** True if the calling real thread is a live simulated thread of this scheduler. */
    public boolean isAttached() {
        SimThread h = holder;
        return h != null && h.thread == Thread.currentThread();
    }

    /** The calling thread's simulated thread. */
    public SimThread current() {
        SimThread h = holder;
        if (h == null || h.thread != Thread.currentThread()) {
            throw notSimulated();
        }
        return h;
    }

    /**
     * Starts a new simulated thread whose clock starts at the caller's now; it runs only when it gets the baton.
     * Its exceptions are captured ({@link SimThread#failure()}) and rethrown by {@link #join}. Charges nothing:
     * callers charge what they model (e.g. {@link Cost#THREAD_START}).
     */
    public SimThread spawn(String name, Runnable body) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(body, "body");
        SimThread cur = current();
        if (closing) {
            shutdown(cur);
        }
        SimThread t = new SimThread(this, name, nextId++, cur.now);
        Thread real = SimThreads.newThread("sim-" + name, () -> threadMain(t, body));
        t.thread = real;
        if (SimThreads.virtual()) {
            // a spinning virtual thread would hold the one carrier the baton holder needs: never spin
            t.spinBudget = 0;
        }
        real.start();
        synchronized (lock) {
            alive.add(t);
        }
        makeReady(t);
        return t;
    }

    /**
     * Blocks the caller (in virtual time) until t is done; then caller.now = max(caller.now, t.now). A scheduling
     * point. If t failed, throws {@link SimThreadFailedException} with t's exception as the cause.
     */
    public void join(SimThread t) {
        Objects.requireNonNull(t, "t");
        SimThread cur = current();
        if (t.sched != this) {
            throw new IllegalArgumentException("join: thread '" + t.name + "' belongs to another scheduler");
        }
        if (t == cur) {
            throw new IllegalArgumentException("join: thread '" + t.name + "' cannot join itself");
        }
        yieldPoint();
        while (t.state != SimThread.DONE) {
            t.joiners.add(cur);
            try {
                block(cur, t.joinDescription, NO_DEADLINE);
            } finally {
                t.joiners.remove(cur);
            }
        }
        cur.now = Math.max(cur.now, t.now);
        Throwable failure = t.failure();
        if (failure != null) {
            throw new SimThreadFailedException(t, failure);
        }
    }

    /** The caller's virtual time, ns. */
    public long now() {
        return current().now;
    }

    /** Adds the cost of one {@code c} to the caller's clock. Not a scheduling point. */
    public void charge(Cost c) {
        SimThread cur = current();
        cur.now = Math.addExact(cur.now, costs.ns(c));
    }

    /** Adds {@code times} times the cost of {@code c} to the caller's clock. Not a scheduling point. */
    public void charge(Cost c, long times) {
        if (times < 0) {
            throw new IllegalArgumentException("negative count " + times + " of " + c.key());
        }
        SimThread cur = current();
        cur.now = Math.addExact(cur.now, Math.multiplyExact(costs.ns(c), times));
    }

    /** Adds {@code ns} to the caller's clock. Not a scheduling point. */
    public void advance(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("cannot advance virtual time by a negative " + ns + " ns");
        }
        SimThread cur = current();
        cur.now = Math.addExact(cur.now, ns);
    }

    /**
     * Scheduling point: if another runnable thread has a smaller now (or an equal one and wins the seeded
     * tie-break), hands it the baton and waits until this thread is chosen again. Also runs RCU callbacks that
     * became due. When the caller is the minimum this is a few loads and compares: no allocation, no syscall.
     *
     * @return whether anything else may have run meanwhile (another thread, or RCU callbacks); false means the
     *         simulated world is exactly as the caller left it, so what it read before the yield still holds
     */
    public boolean yieldPoint() {
        SimThread cur = holder;
        if (cur == null || cur.thread != Thread.currentThread()) {
            throw notSimulated();
        }
        if (closing) {
            shutdown(cur);
        }
        if (cpus != null && !cur.inRcuCallback && cpus.sliceOver(cur, costs.ns(Cost.SCHED_SLICE))) {
            // the slice is used up and others wait for a CPU: go to the back of the line
            cpus.countPreemption();
            grantCpu(cpus.release(cur));
            cpus.enqueue(cur);
            blockUntilWoken(cur, cpus.waitDescription(), NO_DEADLINE);
            return true;
        }
        boolean others = false;
        if (cur.now >= rcuNextDue) {
            rcu.poll(cur);
            others = true;
        }
        SimThread top = ready.peek();
        if (top != null && top.key <= cur.now) {
            preempt(cur, top);
            others = true;
        }
        return others;
    }

    /**
     * The virtual time at which another thread could next act: the earliest runnable thread's clock (a sleeper's
     * wake-up, a timed waiter's deadline) or an RCU callback coming due; {@code Long.MAX_VALUE} if nothing is
     * pending. The caller's next {@link #yieldPoint()} at or after this time hands the baton on. A thread that
     * knows it would only repeat itself until someone else acts (a guest spinning on memory nobody writes) may
     * {@link #advance} straight to it: the run is the same as if it had spun.
     */
    public long nextEventNs() {
        current();
        SimThread top = ready.peek();
        return Math.min(top == null ? Long.MAX_VALUE : top.key, rcuNextDue);
    }

    /**
     * What a simulated thread throws when a loop the model bounds went past its bound without progress (a vCPU's
     * page fault retried 10 000 times in one guest access with nothing changing and no other thread left to
     * change it): a livelock, which the scheduler cannot see by itself, since the looping thread stays runnable
     * and its clock keeps moving. {@code what} says what looped, how often and why; the message adds the thread,
     * its virtual time and the seed, as a deadlock report does. The caller throws it, so the loop ends in the
     * thread that runs it; the other threads run on and see that thread fail like any other ({@link #join} throws
     * {@link SimThreadFailedException} with it as the cause).
     */
    public SimLivelockException livelock(String what) {
        Objects.requireNonNull(what, "what");
        SimThread cur = current();
        return new SimLivelockException(seed, cur.name, cur.now, "livelock in the simulation, seed " + seedString()
                + ": thread '" + cur.name + "' at " + cur.now + " ns: " + what);
    }

    /**
     * Whether anything but the caller can still happen: another thread runnable or waiting with a deadline, one
     * waiting for a host CPU, or RCU work pending. False means every other thread waits for something only the
     * caller could do, so only the caller can change the simulated world from here on: a loop of the caller's
     * that keeps finding the same state will find it forever ({@link #livelock}).
     */
    public boolean othersMayAct() {
        current();
        return ready.peek() != null || rcuNextDue != Long.MAX_VALUE || (cpus != null && cpus.hasWaiters());
    }

    /** advance(ns) then yieldPoint(). */
    public void sleep(long ns) {
        advance(ns);
        yieldPoint();
    }

    /**
     * A generator seeded from {@link #seed()} for simulation policies (which page to pick, which vCPU first). Not
     * shared with the tie-breaks. Use it only while holding the baton, i.e. from simulated threads.
     */
    public RandomGenerator random() {
        return policyRandom;
    }

    public WaitQueue newWaitQueue(String name) {
        return new WaitQueue(this, Objects.requireNonNull(name, "name"));
    }

    public Srcu newSrcu(String name) {
        return new Srcu(this, Objects.requireNonNull(name, "name"));
    }

    public SimRwLock newRwLock(String name) {
        return new SimRwLock(this, Objects.requireNonNull(name, "name"));
    }

    public SharedResource newSharedResource(String name) {
        return new SharedResource(this, Objects.requireNonNull(name, "name"));
    }

    public Rcu rcu() {
        return rcu;
    }

    /** Number of baton handoffs so far (for benchmarks and reports). */
    public long handoffs() {
        return handoffs;
    }

    /**
     * Ends the simulation: every still-alive simulated thread gets {@link SimShutdownException} from its blocking
     * call or next scheduling point and must finish. If the caller is the attached thread, it leaves the
     * simulation first. Then waits in real time, at most 10 s, for the others to end; if some do not (e.g. one is
     * blocked on a real Java lock), throws IllegalStateException naming them. Idempotent: a second call only
     * makes a still-attached caller leave.
     */
    @Override
    public void close() {
        close(CLOSE_TIMEOUT);
    }

    /** close() with another bound on the real-time wait. */
    void close(Duration realTimeout) {
        SimThread h = holder;
        boolean callerHolds = h != null && h.thread == Thread.currentThread();
        if (callerHolds && h != attached) {
            throw new IllegalStateException("close() from spawned simulated thread '" + h.name
                    + "': only the attached thread or a non-simulated thread can close the simulation");
        }
        boolean first;
        synchronized (lock) {
            first = !closeStarted;
            closeStarted = true;
            closing = true;
        }
        if (callerHolds) {
            // also on a second close(): the attached thread told to stop by another thread's close() leaves here
            if (h.rcuNesting > 0) {
                rcu.forceExit(h);
            }
            leave(h);
        }
        if (!first) {
            return;
        }
        synchronized (lock) {
            if (holder == null && !alive.isEmpty()) {
                // nobody runs: every live thread is blocked, so nobody else would notice `closing`
                propagateShutdownLocked();
                SimThread next = ready.poll();
                if (next != null) {
                    dispatch(next);
                }
            }
            long deadline = System.nanoTime() + realTimeout.toNanos();
            long left;
            while (!alive.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!alive.isEmpty()) {
                StringBuilder sb = new StringBuilder("close(): simulated threads did not finish within ")
                        .append(realTimeout.toMillis()).append(" ms (seed ").append(seedString()).append("):");
                for (SimThread t : alive) {
                    sb.append(" '").append(t.name).append("' (").append(describeState(t)).append(')');
                }
                throw new IllegalStateException(sb.append(
                        "; a simulated thread may be blocked on a real Java lock or spinning without yieldPoint()")
                        .toString());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Package-private machinery for WaitQueue, SimRwLock, Rcu.

    /**
     * Blocks cur (the baton holder) until another thread wakes it ({@link #wake}) or, with a deadline, until the
     * deadline is the smallest virtual time left. On return cur holds the baton again; cur.woken tells which.
     * The caller has put cur on its wait list and must take it off on every exit, exceptional or not.
     *
     * @throws SimDeadlockException if no thread could ever wake cur
     * @throws SimShutdownException if the simulation was closed
     */
    void block(SimThread cur, String what, long deadline) {
        if (cpus == null) {
            blockUntilWoken(cur, what, deadline);
            return;
        }
        checkMayBlock(cur, what); // before giving the CPU up
        grantCpu(cpus.release(cur)); // a blocked thread runs on no CPU
        blockUntilWoken(cur, what, deadline);
        acquireCpu(cur);
    }

    /** block() without the host CPU: the wait itself. */
    private void blockUntilWoken(SimThread cur, String what, long deadline) {
        checkMayBlock(cur, what);
        cur.state = SimThread.BLOCKED;
        cur.waitingOn = what;
        cur.woken = false;
        if (deadline != NO_DEADLINE) {
            cur.key = Math.max(deadline, cur.now);
            cur.tie = tieRandom.nextLong();
            ready.insert(cur);
        }
        SimThread next = ready.poll();
        if (next == cur) {
            // cur's deadline is the earliest event left: it times out without a handoff
            cur.now = cur.key;
            cur.state = SimThread.RUNNING;
            cur.waitingOn = null;
            return;
        }
        if (next == null) {
            noneRunnable(cur);
            return;
        }
        dispatch(next);
        awaitBaton(cur);
        resumed(cur);
    }

    /** RCU callbacks must not sleep; a closed simulation stops every thread that would block. */
    private void checkMayBlock(SimThread cur, String what) {
        if (cur.inRcuCallback) {
            throw new IllegalStateException("thread '" + cur.name + "' would block on " + what
                    + " inside an RCU callback; callbacks must not sleep");
        }
        if (closing) {
            shutdown(cur);
        }
    }

    /** The thread that just got a CPU given up by another (if any) may run. */
    private void grantCpu(SimThread t) {
        if (t != null) {
            t.woken = true;
            t.waitingOn = null;
            makeReady(t);
        }
    }

    /** cur is about to run: it takes a free CPU or waits in line for one. */
    private void acquireCpu(SimThread cur) {
        if (cur.cpu >= 0 || cpus.tryTake(cur)) {
            return;
        }
        cpus.enqueue(cur);
        blockUntilWoken(cur, cpus.waitDescription(), NO_DEADLINE);
    }

    /** The number of host CPUs the threads share, or 0 if each has its own. */
    public int hostCpus() {
        return cpus == null ? 0 : cpus.count();
    }

    /** Times a thread that could run had to wait for a host CPU (0 without a CPU count). */
    public long cpuWaits() {
        return cpus == null ? 0 : cpus.waits();
    }

    /** Total virtual time threads that could run waited for a host CPU, ns. */
    public long cpuWaitNs() {
        return cpus == null ? 0 : cpus.waitNs();
    }

    /** Wake-ups that went to an idle host CPU and paid for its idle exit. */
    public long cpuIdleExits() {
        return cpus == null ? 0 : cpus.idleExits();
    }

    /** Threads that gave up their CPU at the end of a slice. */
    public long cpuPreemptions() {
        return cpus == null ? 0 : cpus.preemptions();
    }

    /** Makes a blocked thread runnable at max(its now, waker's now). Not a scheduling point. */
    void wake(SimThread t, SimThread waker) {
        if (t.state != SimThread.BLOCKED) {
            return;
        }
        ready.remove(t);
        t.woken = true;
        t.waitingOn = null;
        t.now = Math.max(t.now, waker.now);
        makeReady(t);
    }

    /** Runs when a thread is known to be the baton holder: charge in a primitive without a second check. */
    void charge(SimThread cur, Cost c) {
        cur.now = Math.addExact(cur.now, costs.ns(c));
    }

    String seedString() {
        return seed + " (0x" + Long.toHexString(seed) + ")";
    }

    // ---------------------------------------------------------------------------------------------------------

    private void threadMain(SimThread t, Runnable body) {
        awaitBaton(t);
        Throwable failure = null;
        try {
            resumed(t);
            if (closing) {
                shutdown(t);
            }
            if (cpus != null) {
                acquireCpu(t);
            }
            body.run();
        } catch (Throwable e) {
            failure = e;
        } finally {
            exit(t, failure);
        }
    }

    private void exit(SimThread t, Throwable failure) {
        if (t.rcuNesting > 0) {
            rcu.forceExit(t);
            if (failure == null) {
                failure = new IllegalStateException("simulated thread '" + t.name
                        + "' ended inside an RCU read-side critical section");
            }
        }
        if (failure != null) {
            t.fail(failure);
        }
        leave(t);
    }

    /** t (the holder) is done: wake its joiners, drop it from the live set and hand the baton on. */
    private void leave(SimThread t) {
        if (cpus != null) {
            grantCpu(cpus.release(t));
        }
        t.state = SimThread.DONE;
        SimThread j;
        while ((j = t.joiners.poll()) != null) {
            wake(j, t);
        }
        synchronized (lock) {
            alive.remove(t);
            if (t == attached) {
                attached = null;
            }
            t.done = true;
            if (closing) {
                propagateShutdownLocked();
            }
            SimThread next = ready.poll();
            if (next == null && !alive.isEmpty() && attached != null) {
                // the last runnable thread ended while the others (the attached one among them) wait forever
                String msg = deadlockMessage();
                failAllBlocked(null, msg);
                next = ready.poll();
            }
            if (next != null) {
                dispatch(next);
            } else {
                holder = null;
            }
            lock.notifyAll();
        }
    }

    private void preempt(SimThread cur, SimThread top) {
        if (cur.inRcuCallback) {
            throw new IllegalStateException("thread '" + cur.name
                    + "' reached a scheduling point inside an RCU callback; callbacks must not sleep");
        }
        long tie = tieRandom.nextLong();
        if (top.key == cur.now && (tie < top.tie || (tie == top.tie && cur.id < top.id))) {
            return;
        }
        cur.key = cur.now;
        cur.tie = tie;
        cur.state = SimThread.READY;
        SimThread next = ready.replaceTop(cur);
        dispatch(next);
        awaitBaton(cur);
        resumed(cur);
    }

    /** Nobody can run after cur blocks: a deadlock while the simulation is live, else wait for close(). */
    private void noneRunnable(SimThread cur) {
        if (attached != null) {
            String msg = deadlockMessage();
            failAllBlocked(cur, msg);
            cur.state = SimThread.RUNNING;
            cur.waitingOn = null;
            throw new SimDeadlockException(seed, msg);
        }
        synchronized (lock) {
            if (closing) {
                cur.state = SimThread.RUNNING;
                cur.waitingOn = null;
                shutdown(cur);
            }
            holder = null;
        }
        awaitBaton(cur);
        resumed(cur);
    }

    private void makeReady(SimThread t) {
        t.key = t.now;
        t.tie = tieRandom.nextLong();
        t.state = SimThread.READY;
        ready.insert(t);
    }

    /** Hands the baton to next, which must have left the ready queue. */
    private void dispatch(SimThread next) {
        next.now = Math.max(next.now, next.key);
        next.state = SimThread.RUNNING;
        handoffs++;
        holder = next;
        next.baton = true;
        LockSupport.unpark(next.thread);
    }

    private void awaitBaton(SimThread t) {
        boolean interrupted = false;
        boolean parked = false;
        int budget = t.spinBudget;
        int spins = budget;
        while (!t.baton) {
            if (spins > 0) {
                spins--;
                Thread.onSpinWait();
            } else {
                parked = true;
                LockSupport.park(this);
                // interrupts mean nothing in virtual time; keep the flag for the code that runs after us
                interrupted |= Thread.interrupted();
            }
        }
        t.baton = false;
        // adaptive spinning: a thread whose baton tends to come back quickly (ping-pong) spins longer next time,
        // one that waits long (or shares a busy CPU with the holder) soon parks at once
        if (!SimThreads.virtual()) {
            t.spinBudget = parked ? budget >>> 1 : Math.min(MAX_SPINS, 2 * budget + 16);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void resumed(SimThread t) {
        t.waitingOn = null;
        RuntimeException p = t.pending;
        if (p != null) {
            t.pending = null;
            throw p;
        }
    }

    private void shutdown(SimThread cur) {
        synchronized (lock) {
            propagateShutdownLocked();
        }
        throw new SimShutdownException("simulation closed (seed " + seedString() + "): thread '" + cur.name
                + "' stopped at " + cur.now + " ns");
    }

    /** Every blocked thread becomes runnable and will throw SimShutdownException from its blocking call. */
    private void propagateShutdownLocked() {
        for (SimThread t : alive) {
            if (t.state == SimThread.BLOCKED && t.pending == null) {
                t.pending = new SimShutdownException("simulation closed (seed " + seedString() + ") while thread '"
                        + t.name + "' waited on " + t.waitingOn + " at " + t.now + " ns");
                unblockWithPending(t);
            }
        }
    }

    /** Every blocked thread but except becomes runnable and will throw SimDeadlockException(msg). */
    private void failAllBlocked(SimThread except, String msg) {
        for (SimThread t : alive) {
            if (t != except && t.state == SimThread.BLOCKED) {
                t.pending = new SimDeadlockException(seed, msg);
                unblockWithPending(t);
            }
        }
    }

    private void unblockWithPending(SimThread t) {
        if (t.waitList != null) {
            t.waitList.remove(t);
        }
        ready.remove(t);
        makeReady(t);
    }

    private String deadlockMessage() {
        StringBuilder sb = new StringBuilder("deadlock in the simulation, seed ").append(seedString())
                .append(": no simulated thread can run and none waits with a deadline. Blocked:");
        for (SimThread t : alive) {
            if (t.state == SimThread.BLOCKED) {
                sb.append("\n  '").append(t.name).append("' waits on ").append(t.waitingOn).append(" at ")
                        .append(t.now).append(" ns");
            }
        }
        long callbacks = rcu.pendingCallbacks();
        if (callbacks > 0) {
            sb.append("\n  (").append(callbacks).append(" RCU callbacks pending)");
        }
        return sb.toString();
    }

    private static String describeState(SimThread t) {
        return switch (t.state) {
            case SimThread.BLOCKED -> "blocked on " + t.waitingOn + " at " + t.now + " ns";
            case SimThread.RUNNING -> "running at " + t.now + " ns";
            case SimThread.READY -> "runnable at " + t.now + " ns";
            default -> "done";
        };
    }

    private static String names(List<SimThread> threads) {
        StringBuilder sb = new StringBuilder();
        for (SimThread t : threads) {
            sb.append(sb.length() == 0 ? "" : ", ").append('\'').append(t.name).append('\'');
        }
        return sb.toString();
    }

    private IllegalStateException notSimulated() {
        return new IllegalStateException("thread " + Thread.currentThread().getName()
                + " is not simulated by this VM (seed " + seedString()
                + "): only threads attached with attachCurrent() or started with spawn() may call into the"
                + " simulation, and only while they run");
    }
}
