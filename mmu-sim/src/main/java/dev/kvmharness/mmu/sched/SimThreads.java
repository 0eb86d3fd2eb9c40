// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.sched;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;

/**
 * Which Java threads carry the simulated ones. Only the baton holder ever runs, so a handoff is all a simulated
 * thread switch costs; with platform threads that is a futex wake-up of another OS thread (about 10 us on a busy
 * 2-CPU host), with virtual threads on one carrier it is a continuation switch on the same OS thread. The
 * project compiles for Java 17, which has no virtual threads: on a JDK that has them without pinning on monitors
 * (24 and later, JEP 491: before that, a simulated thread parking inside a {@code synchronized} block would hold
 * the only carrier), spawned threads are virtual and share one carrier; on older JDKs they are platform threads.
 * {@code -Dkvmharness.sim.threads=platform} forces platform threads. Either way the schedule, and so every result,
 * is the same: the baton decides who runs, not the JVM.
 */
final class SimThreads {
    /** The property that chooses: {@code virtual} (the default where available) or {@code platform}. */
    static final String PROPERTY = "kvmharness.sim.threads";
    private static final String PARALLELISM = "jdk.virtualThreadScheduler.parallelism";
    private static final MethodHandle VIRTUAL_FACTORY = virtualFactory();

    private SimThreads() {
    }

    /** True if spawned simulated threads are virtual threads in this JVM. */
    static boolean virtual() {
        return VIRTUAL_FACTORY != null;
    }

    /** A new, unstarted, daemon thread running body, named name. */
    static Thread newThread(String name, Runnable body) {
        if (VIRTUAL_FACTORY != null) {
            try {
                ThreadFactory f = (ThreadFactory) VIRTUAL_FACTORY.invoke();
                Thread t = f.newThread(body);
                t.setName(name);
                return t;
            } catch (Throwable e) {
                throw new IllegalStateException("cannot create a virtual thread for '" + name + "'", e);
            }
        }
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Runs body on a new thread of the kind {@link #newThread} makes and waits for it, rethrowing what it threw.
     * On virtual threads the caller's work then shares the one carrier with the threads it spawns.
     */
    static void runAndWait(String name, Runnable body) {
        Throwable[] thrown = new Throwable[1];
        Thread t = newThread(name, () -> {
            try {
                body.run();
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
                t.interrupt();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (thrown[0] instanceof RuntimeException e) {
            throw e;
        }
        if (thrown[0] instanceof Error e) {
            throw e;
        }
        if (thrown[0] != null) {
            throw new IllegalStateException(thrown[0]);
        }
    }

    /** {@code Thread.ofVirtual().factory()} where the running JDK has it without monitor pinning; else null. */
    private static MethodHandle virtualFactory() {
        String choice = System.getProperty(PROPERTY, "virtual").toLowerCase(Locale.ROOT);
        if (!choice.equals("virtual")) {
            if (!choice.equals("platform")) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + choice + ": expected virtual or platform");
            }
            return null;
        }
        if (Runtime.version().feature() < 24) {
            return null;
        }
        // One carrier: the baton holder is the only simulated thread that runs, so more carriers would only add
        // wake-ups of idle carrier threads. Read by the JDK when it first creates a virtual thread.
        if (System.getProperty(PARALLELISM) == null) {
            System.setProperty(PARALLELISM, "1");
        }
        try {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> builder = Class.forName("java.lang.Thread$Builder$OfVirtual");
            MethodHandle ofVirtual = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(builder));
            MethodHandle factory = lookup.findVirtual(Class.forName("java.lang.Thread$Builder"), "factory",
                    MethodType.methodType(ThreadFactory.class));
            return MethodHandles.filterReturnValue(ofVirtual, factory.asType(MethodType.methodType(ThreadFactory.class, builder)));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Java " + Runtime.version() + " lacks Thread.ofVirtual()", e);
        }
    }
}
