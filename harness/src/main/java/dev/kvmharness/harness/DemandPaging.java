// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness;

/**
 * userfaultfd demand paging over a host range (lib/userfaultfd_util.c): one userfaultfd registered in MISSING
 * or MINOR mode, {@code readers} handler threads, an optional delay per fault. {@link #close()} is
 * uffd_stop_demand_paging(): stop the readers, join them, close the fds.
 */
public interface DemandPaging extends AutoCloseable {

    /** UFFDIO_REGISTER_MODE_MISSING (resolve with COPY) or _MINOR (resolve with CONTINUE). */
    enum Mode {
        MISSING, MINOR
    }

    /**
     * One userfaultfd range to register and serve (uffd_setup_demand_paging()'s arguments).
     *
     * @param mode registration mode
     * @param delayUs usleep() before each fault is handled (-d)
     * @param hva start of the host range to register
     * @param len its length
     * @param readers handler threads polling this uffd (-r)
     * @param pageSize the granule faults are resolved in (the backing page size)
     * @param fill the byte every page UFFDIO_COPY supplies is filled with (MISSING mode; guest_data_prototype)
     * @param handler the test's per-fault code (handle_uffd_page_request)
     */
    record Config(Mode mode, long delayUs, long hva, long len, int readers, long pageSize, byte fill,
                  Handler handler) {
    }

    /** The test's fault handler: resolves the fault at {@code address} through {@code resolver}. */
    @FunctionalInterface
    interface Handler {
        void handle(Mode mode, Resolver resolver, long address);
    }

    /** The resolving ioctls, backend-neutral. */
    interface Resolver {
        /** UFFDIO_COPY of the prototype into [dst, dst+len). */
        void copy(long dst, long len);

        /** UFFDIO_CONTINUE of [start, start+len). */
        void cont(long start, long len);
    }

    /** Faults handled so far by all readers. */
    long pagesHandled();

    /**
     * How long each fault's resolution took (the handler's UFFDIO_COPY / UFFDIO_CONTINUE, without the -d delay),
     * in ns: what PER_PAGE_DEBUG's "UFFD page-in" lines print one by one. Complete once {@link #close()} returned.
     */
    org.HdrHistogram.Histogram pageInLatencyNs();

    @Override
    void close();
}
