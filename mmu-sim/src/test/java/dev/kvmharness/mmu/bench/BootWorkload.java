// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.mmu.bench;

import dev.kvmharness.mmu.host.Backing;
import dev.kvmharness.mmu.kvm.SimConfig;
import dev.kvmharness.mmu.kvm.SimVcpu;
import dev.kvmharness.mmu.memslot.Memslot;
import dev.kvmharness.mmu.policy.Policy;
import dev.kvmharness.mmu.sched.SimThread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Workload (a) of the seed series: an 8-vCPU guest booting, as QEMU (pc/q35, SeaBIOS, GRUB, Linux) drives KVM,
 * for seed 000's figure "booting an 8 vCPU guest, remote_tlb_flush (requests) goes from roughly 180 (600) to 130
 * (215)". Four kinds of MMU work, in three phases, every choice drawn from the run's seed:
 * <ul>
 *   <li><b>memslot churn</b> (KVM_SET_USER_MEMORY_REGION create, move, delete; __kvm_set_memory_region), as QEMU's
 *       memory API turns region changes into slot updates: the 13 PAM segments of 0xc0000-0xfffff switching
 *       between ROM, read-write RAM and read-only RAM (SeaBIOS's make_bios_writable/readonly; a read-only slot
 *       cannot become writable in place, so each switch is a delete and a create), the SMRAM window at 0xa0000
 *       opened and closed, two PCI option ROM BARs mapped while SeaBIOS copies them, the VGA BAR (16 MiB of dirty-logged vram) appearing when firmware enables memory
 *       decode, disappearing and reappearing while Linux sizes BARs, and moving once (KVM_MR_MOVE) when the BAR is
 *       reassigned, and the VGA legacy window at 0xa0000 (an alias of vram in VBE banked modes) appearing with
 *       GRUB's graphics mode, re-created at another vram offset on each bank switch, deleted when Linux's DRM
 *       driver takes over;</li>
 *   <li><b>MMU resets</b> (kvm_mmu_reset_context() from KVM_SET_SREGS or a CR0/CR4 write: SimVcpu's
 *       resetMmuContext): the BSP's switch to paging (CR4.PAE, CR0.PG) and the kernel's CR0.WP and CR4.SMEP/SMAP,
 *       on every AP the INIT of SeaBIOS's SMP probe, then at Linux's bring-up INIT and the same four switches;</li>
 *   <li><b>MMU-notifier invalidations</b> from the host during the kernel phase, through HostMm and KVM's
 *       notifier: THP splits (MADV_DONTNEED of one 4K page inside a 2M THP: the host splits the PMD and KVM zaps
 *       the 2M SPTE), compaction/migration (a 4K page invalidated and given a new pfn on the next touch: the
 *       model has no migrate_pages(), and for KVM a migration is exactly that), NUMA-balancing scans (mprotect of
 *       2 MiB with unchanged protection: the MMU_NOTIFY_PROTECTION_VMA pair change_prot_numa() sends) and QEMU
 *       unmapping its own buffers outside every memslot (elided);</li>
 *   <li><b>demand faults</b> by all vCPUs: firmware and bootloader on the BSP (BIOS ROM, low RAM, BIOS shadow,
 *       ACPI tables, kernel and initrd loading and decompression), each AP's trampoline and per-CPU areas, then
 *       all eight zeroing and touching pages at random while the display refreshes harvest the vram dirty log
 *       (KVM_GET_DIRTY_LOG, 100 refreshes) that fbcon writes on vCPU 0.</li>
 * </ul>
 * Guest RAM is THP-backed, so most of it maps with 2M SPTEs. With SMM ({@link Config#smm()}) the memslot churn is
 * repeated in address space 1 and SMIs switch vCPUs to SMM roots and back. Not modelled: guest interrupts and
 * timers, and the MMIO of devices other than VGA text mode.
 *
 * <p>Run with {@code ci/bench.sh seed-boot [--policy SPEC]... [--seed N] [--vcpus N] [--ram-mib N] [--aps-spin 1]
 * [--smm 1 [--smis N]]}; the same seed
 * gives the same numbers.
 */
public final class BootWorkload {
    static final int SLOT_RAM_LOW = 0;
    static final int SLOT_RAM_HIGH = 1;
    static final int SLOT_BIOS = 2;
    static final int SLOT_PAM0 = 3;
    static final int PAM_SEGMENTS = 13;
    static final int SLOT_SMRAM = SLOT_PAM0 + PAM_SEGMENTS;
    static final int SLOT_VGA_WINDOW = SLOT_SMRAM + 1;
    static final int SLOT_VRAM = SLOT_VGA_WINDOW + 1;
    static final int SLOT_OPTION_ROM = SLOT_VRAM + 1;
    static final long OPTION_ROM_BAR = 0xfeb80000L;
    static final long OPTION_ROM_SIZE = 256L << 10;
    static final long LOW_RAM_END = 0xa0000;
    static final long VGA_WINDOW = 0xa0000;
    static final long VGA_WINDOW_SIZE = 0x20000;
    static final long VGA_BANK = 0x10000;
    static final long PAM_BASE = 0xc0000;
    static final long HIGH_RAM = 0x100000;
    static final long BIOS_SIZE = 256L << 10;
    static final long BIOS_GPA = (1L << 32) - BIOS_SIZE;
    static final long VRAM_SIZE = 16L << 20;
    static final long VRAM_BAR = 0xfd000000L;
    static final long VRAM_BAR_MOVED = 0xe0000000L;
    static final long TEXT_MODE_BUFFER = 0xb8000;
    /** SMBASE after relocation is 0xa0000: the handler starts at SMBASE + 0x8000, the state save area ends the 64 KiB. */
    static final long SMM_HANDLER = 0xa8000;
    private static final long PAGE = 4096;

    /**
     * The boot's size.
     *
     * @param vcpus vCPUs (the BSP and vcpus - 1 APs)
     * @param ramBytes guest RAM, at least 64 MiB
     * @param touchesPerVcpu pages each vCPU touches in the kernel phase
     * @param refreshes display refreshes (KVM_GET_DIRTY_LOG of vram) in the kernel phase
     * @param refreshPeriodNs virtual time between refreshes
     * @param thpSplits host THP splits in the kernel phase
     * @param migrations host 4K page migrations in the kernel phase
     * @param numaScans NUMA-balancing protection scans of 2 MiB in the kernel phase
     * @param foreignUnmaps QEMU's own munmaps outside the memslots in the kernel phase
     * @param apsSpinInFirmware after the firmware's SMP probe the APs wait in a guest loop (OVMF's MP services
     *     park them polling a mailbox) instead of halting (SeaBIOS: cli; hlt), so they are in guest mode during
     *     the firmware's memslot churn
     * @param smm the machine has SMM (QEMU's default for pc and q35 under KVM): QEMU's second memory listener
     *     ("kvm-smram") keeps address space 1, system memory with SMRAM always mapped at 0xa0000, so every memslot
     *     change outside the VGA window is made twice; the firmware relocates each CPU's SMBASE with an SMI, and
     *     Linux's ACPI enable is one more SMI on the BSP
     * @param runtimeSmis SMIs broadcast to every vCPU in the kernel phase (OVMF's variable services run in SMM and
     *     pull all CPUs in; SeaBIOS has none); needs {@code smm}
     */
    public record Config(int vcpus, long ramBytes, int touchesPerVcpu, int refreshes, long refreshPeriodNs, int thpSplits,
                         int migrations, int numaScans, int foreignUnmaps, boolean apsSpinInFirmware, boolean smm,
                         int runtimeSmis) {
        public Config {
            if (runtimeSmis < 0 || (runtimeSmis > 0 && !smm)) {
                throw new IllegalArgumentException("runtime SMIs need SMM and must be >= 0, got " + runtimeSmis);
            }
            if (vcpus < 1 || vcpus > 256) {
                throw new IllegalArgumentException("vcpus must be in [1, 256], got " + vcpus);
            }
            if (ramBytes < (64L << 20) || ramBytes > (3L << 30) || ramBytes % (2L << 20) != 0) {
                throw new IllegalArgumentException("RAM must be a multiple of 2 MiB in [64 MiB, 3 GiB] (below the PCI hole), got "
                        + ramBytes);
            }
        }

        /** The README's run: 8 vCPUs, 512 MiB. */
        public static Config standard() {
            return new Config(8, 512L << 20, 4096, 100, 100_000, 24, 48, 8, 32, false, false, 0);
        }

        /** A short run for the tests: the same phases, fewer pages and events. */
        public static Config small() {
            return new Config(8, 128L << 20, 256, 20, 50_000, 4, 8, 2, 4, false, false, 0);
        }

        public Config withVcpus(int n) {
            return new Config(n, ramBytes, touchesPerVcpu, refreshes, refreshPeriodNs, thpSplits, migrations, numaScans, foreignUnmaps,
                    apsSpinInFirmware, smm, runtimeSmis);
        }

        public Config withRam(long bytes) {
            return new Config(vcpus, bytes, touchesPerVcpu, refreshes, refreshPeriodNs, thpSplits, migrations, numaScans, foreignUnmaps,
                    apsSpinInFirmware, smm, runtimeSmis);
        }

        public Config withApsSpinningInFirmware(boolean spin) {
            return new Config(vcpus, ramBytes, touchesPerVcpu, refreshes, refreshPeriodNs, thpSplits, migrations, numaScans, foreignUnmaps,
                    spin, smm, runtimeSmis);
        }

        public Config withSmm(boolean on) {
            return new Config(vcpus, ramBytes, touchesPerVcpu, refreshes, refreshPeriodNs, thpSplits, migrations, numaScans, foreignUnmaps,
                    apsSpinInFirmware, on, on ? runtimeSmis : 0);
        }

        public Config withRuntimeSmis(int n) {
            return new Config(vcpus, ramBytes, touchesPerVcpu, refreshes, refreshPeriodNs, thpSplits, migrations, numaScans, foreignUnmaps,
                    apsSpinInFirmware, smm, n);
        }
    }

    /** The remote flush stats a phase added. */
    public record Flushes(long flushes, long requests) {
    }

    /**
     * What the boot cost.
     *
     * @param phases remote flush stats by phase, in order (firmware, smp, kernel)
     * @param virtualNs virtual time from the first ioctl to the last vCPU done
     * @param memslotIoctls KVM_SET_USER_MEMORY_REGION calls
     * @param resets kvm_mmu_reset_context() calls, outside SMIs
     * @param smis SMIs taken, each an entry into SMM and an RSM
     * @param notifications host invalidations (start/end pairs) sent to KVM
     * @param pfTaken page faults taken by all vCPUs
     * @param violations what the stale-translation oracle found
     */
    public record Result(Policy policy, Map<String, Flushes> phases, Map<String, Flushes> sources, long remoteTlbFlush, long remoteTlbFlushRequests, long virtualNs,
                         long memslotIoctls, long resets, long smis, long notifications, long pfTaken, long mmioExits, int violations) {
    }

    private final Config cfg;
    private final Policy policy;
    private final long seed;
    private SeedVm vm;
    private SplittableRandom random;
    private long ram;
    private long pcRom;
    private long bios;
    private long vram;
    private long optionRoms;
    private long memslotIoctls;
    private long resets;
    private long notifications;
    private long smis;
    /** Broadcast SMIs raised so far in the kernel phase, and how many each vCPU has taken. */
    private int smisRaised;
    private int[] smisTaken;
    /** Where the VGA BAR is mapped now, or -1 while memory decode is off. */
    private long vramGpa = -1;
    private final Map<String, long[]> sources = new java.util.TreeMap<>();

    public BootWorkload(Config cfg, Policy policy, long seed) {
        this.cfg = cfg;
        this.policy = policy;
        this.seed = seed;
    }

    /** Boots once. */
    public Result run() {
        Map<String, Flushes> phases = new LinkedHashMap<>();
        random = new SplittableRandom(seed);
        try (SeedVm v = new SeedVm(seed, SimConfig.defaults().withPolicy(policy), cfg.vcpus())) {
            vm = v;
            ram = vm.mm.mmap(cfg.ramBytes(), Backing.ANON_THP);
            pcRom = vm.mm.mmap(128L << 10, Backing.ANON);
            bios = vm.mm.mmap(BIOS_SIZE, Backing.ANON);
            vram = vm.mm.mmap(VRAM_SIZE, Backing.ANON);
            optionRoms = vm.mm.mmap(2 * OPTION_ROM_SIZE, Backing.ANON);
            long t0 = vm.sched.now();
            phase(phases, "firmware", this::firmware);
            phase(phases, "smp", this::smpBringUp);
            phase(phases, "kernel", this::kernelInit);
            long virtualNs = vm.sched.now() - t0;
            long pf = 0;
            for (var c : vm.vcpus) {
                pf += c.stats().pfTaken;
            }
            Map<String, Flushes> bySource = new LinkedHashMap<>();
            sources.forEach((k, c) -> bySource.put(k, new Flushes(c[0], c[1])));
            return new Result(policy, phases, bySource, vm.kvm.stats().remoteTlbFlush, vm.kvm.stats().remoteTlbFlushRequests, virtualNs,
                    memslotIoctls, resets, smis, notifications, pf, vm.mmioExits, vm.oracle.violations().size());
        }
    }

    private void phase(Map<String, Flushes> phases, String name, Runnable body) {
        long f = vm.kvm.stats().remoteTlbFlush;
        long r = vm.kvm.stats().remoteTlbFlushRequests;
        body.run();
        phases.put(name, new Flushes(vm.kvm.stats().remoteTlbFlush - f, vm.kvm.stats().remoteTlbFlushRequests - r));
    }

    private void slot(int id, int flags, long gpa, long size, long hva) {
        slotIn(0, id, flags, gpa, size, hva);
        if (cfg.smm() && id != SLOT_SMRAM && id != SLOT_VGA_WINDOW) {
            // what the SMM address space shows changed too (SMRAM covers 0xa0000-0xbffff there)
            slotIn(1, id, flags, gpa, size, hva);
        }
    }

    private void slotIn(int as, int id, int flags, long gpa, long size, long hva) {
        memslotIoctls++;
        boolean exists = vm.kvm.memslots().byId(as, id) != null;
        String kind = (size == 0 ? "memslot delete" : !exists ? "memslot create" : "memslot move")
                + (as == 0 ? "" : " (SMM address space)");
        attribute(kind, () -> vm.setSlot(as << 16 | id, flags, gpa, size, hva));
    }

    /**
     * An SMI on vCPU v (v's own thread): enter SMM, run the handler in SMRAM (address space 1), leave with RSM.
     * Each switch is a kvm_mmu_reset_context(); on legacy kernels the last vCPU to leave a root zaps it.
     */
    private void smi(int v) {
        smis++;
        SimVcpu c = vm.vcpus.get(v);
        attribute("SMI", () -> {
            c.setSmm(true);
            vm.run(v, 16, i -> SMM_HANDLER + (i % 8) * PAGE, i -> i % 8 == 7, 200);
            c.setSmm(false);
        });
    }

    private void reset(int v) {
        resets++;
        attribute("kvm_mmu_reset_context", () -> vm.vcpus.get(v).resetMmuContext());
    }

    /**
     * Runs {@code op} and books the remote flush stats that moved meanwhile to {@code source}. Other threads run
     * only at the op's scheduling points, so a flush of theirs in between is booked here too: the breakdown is by
     * "what was in progress", and the rows add up to the total only where no such overlap happened.
     */
    private void attribute(String source, Runnable op) {
        long f = vm.kvm.stats().remoteTlbFlush;
        long r = vm.kvm.stats().remoteTlbFlushRequests;
        op.run();
        long[] acc = sources.computeIfAbsent(source, k -> new long[2]);
        acc[0] += vm.kvm.stats().remoteTlbFlush - f;
        acc[1] += vm.kvm.stats().remoteTlbFlushRequests - r;
    }

    // ---------------------------------------------------------------- phase 1: firmware and bootloader (BSP)

    /** PAM segment {@code i}: 12 of 16 KiB from 0xc0000, then 64 KiB at 0xf0000. */
    private static long pamGpa(int i) {
        return i < 12 ? PAM_BASE + i * 0x4000L : 0xf0000;
    }

    private static long pamSize(int i) {
        return i < 12 ? 0x4000 : 0x10000;
    }

    private enum Pam { ROM, RAM_RW, RAM_RO }

    /**
     * One PAM segment switched (a PAM register write, handled by QEMU on the BSP's thread): the old slot goes, the
     * new one comes. ROM: pc.rom below 0xe0000, the isa-bios alias of the BIOS's last 128 KiB above.
     */
    private void pam(int i, Pam mode, boolean initial) {
        long gpa = pamGpa(i);
        if (!initial) {
            slot(SLOT_PAM0 + i, 0, gpa, 0, 0);
        }
        long romHva = gpa < 0xe0000 ? pcRom + (gpa - PAM_BASE) : bios + (BIOS_SIZE - 0x20000) + (gpa - 0xe0000);
        switch (mode) {
            case ROM -> slot(SLOT_PAM0 + i, Memslot.KVM_MEM_READONLY, gpa, pamSize(i), romHva);
            case RAM_RW -> slot(SLOT_PAM0 + i, 0, gpa, pamSize(i), ram + gpa);
            case RAM_RO -> slot(SLOT_PAM0 + i, Memslot.KVM_MEM_READONLY, gpa, pamSize(i), ram + gpa);
        }
    }

    /**
     * SeaBIOS's PAM register writes, one I/O exit each: PAM1..6 cover two 16 KiB segments, PAM0 the 64 KiB at
     * 0xf0000. Between two writes the BSP runs on: it fetches its code from the BIOS area, uses its stack in low
     * RAM, and so faults in again what the previous update zapped.
     */
    private void pamAll(Pam mode) {
        for (int reg = 0; reg < 7; reg++) {
            if (reg == 0) {
                pam(PAM_SEGMENTS - 1, mode, false);
            } else {
                pam(2 * reg - 2, mode, false);
                pam(2 * reg - 1, mode, false);
            }
            long code = 0xf0000 + random.nextLong(16) * PAGE;
            vm.run(0, 3, i -> i == 1 ? 0x7000 : code, i -> i == 1, 200);
        }
    }

    /** Accesses at {@code pages} random 4K pages of [base, base + len), writes with probability {@code writeShare}. */
    private void touchRandom(int v, long base, long len, int pages, double writeShare, int insns) {
        long[] gpas = new long[pages];
        boolean[] writes = new boolean[pages];
        for (int i = 0; i < pages; i++) {
            gpas[i] = base + random.nextLong(len / PAGE) * PAGE;
            writes[i] = random.nextDouble() < writeShare;
        }
        vm.run(v, pages, i -> gpas[i], i -> writes[i], insns);
    }

    /** Sequential accesses to every page of [base, base + len). */
    private void touchRange(int v, long base, long len, boolean write, int insns) {
        vm.run(v, (int) (len / PAGE), i -> base + i * PAGE, i -> write, insns);
    }

    private void firmware() {
        long ramTop = cfg.ramBytes();
        // QEMU's machine init: RAM below the VGA hole and above 1 MiB, the BIOS ROM below 4 GiB, PAM as ROM.
        slot(SLOT_RAM_LOW, 0, 0, LOW_RAM_END, ram);
        slot(SLOT_RAM_HIGH, 0, HIGH_RAM, ramTop - HIGH_RAM, ram + HIGH_RAM);
        slot(SLOT_BIOS, Memslot.KVM_MEM_READONLY, BIOS_GPA, BIOS_SIZE, bios);
        if (cfg.smm()) {
            slotIn(1, SLOT_SMRAM, 0, VGA_WINDOW, VGA_WINDOW_SIZE, ram + VGA_WINDOW);
        }
        for (int i = 0; i < PAM_SEGMENTS; i++) {
            pam(i, Pam.ROM, true);
        }
        // The reset vector and SeaBIOS's early code in ROM; the IVT, BDA, EBDA and stack in low RAM.
        touchRange(0, BIOS_GPA, BIOS_SIZE, false, 200);
        touchRange(0, 0xf0000, 0x10000, false, 200);
        touchRange(0, 0, LOW_RAM_END, true, 100);
        // make_bios_writable(), then the copy of the BIOS into its RAM shadow.
        pamAll(Pam.RAM_RW);
        touchRange(0, PAM_BASE, HIGH_RAM - PAM_BASE, true, 100);
        // SMP probe: every AP is woken, counts itself in, and halts (cli; hlt) holding its root.
        List<SimThread> aps = new ArrayList<>();
        for (int a = 1; a < cfg.vcpus(); a++) {
            int ap = a;
            aps.add(vm.spawn("ap" + ap + "-probe", () -> {
                reset(ap);
                vm.run(ap, 8, i -> 0x10000 + (i & 1) * PAGE, i -> true, 50);
                if (cfg.smm()) {
                    smi(ap); // the AP's SMBASE relocated too
                }
            }));
        }
        touchRange(0, 0x10000, 2 * PAGE, true, 2000);
        vm.joinAll(aps);
        List<SimThread> parked = new ArrayList<>();
        boolean[] released = {false};
        if (cfg.apsSpinInFirmware()) {
            // Parked APs poll their mailbox (one read-only page each) until the OS takes them over.
            for (int a = 1; a < cfg.vcpus(); a++) {
                int ap = a;
                parked.add(vm.spawn("ap" + ap + "-parked", () -> {
                    while (!released[0]) {
                        vm.run(ap, 64, i -> 0x20000 + ap * 64L, i -> false, 50);
                    }
                }));
            }
        }
        firmwareAfterSmpProbe();
        released[0] = true;
        vm.joinAll(parked);
    }

    /** The firmware after its SMP probe: option ROMs, SMM, PCI, the bootloader and the kernel's decompressor (BSP). */
    private void firmwareAfterSmpProbe() {
        long ramTop = cfg.ramBytes();
        // Option ROMs (VGA BIOS, iPXE): each PCI ROM BAR is mapped, copied into the shadow, unmapped.
        for (int rom = 0; rom < 2; rom++) {
            slot(SLOT_OPTION_ROM, Memslot.KVM_MEM_READONLY, OPTION_ROM_BAR, OPTION_ROM_SIZE, optionRoms + rom * OPTION_ROM_SIZE);
            touchRange(0, OPTION_ROM_BAR, OPTION_ROM_SIZE, false, 50);
            touchRange(0, PAM_BASE + rom * 0x10000L, 0x10000, true, 50);
            slot(SLOT_OPTION_ROM, 0, OPTION_ROM_BAR, 0, 0);
        }
        // SMM set-up: SMRAM opened (RAM visible under the VGA window), the handler copied in, closed again.
        slot(SLOT_SMRAM, 0, VGA_WINDOW, VGA_WINDOW_SIZE, ram + VGA_WINDOW);
        touchRange(0, VGA_WINDOW + 0x8000, 0x8000, true, 100);
        slot(SLOT_SMRAM, 0, VGA_WINDOW, 0, 0);
        if (cfg.smm()) {
            smi(0); // smm_setup(): the BSP's SMBASE relocated into SMRAM
        }
        // PCI set-up: the VGA BAR appears once decode is enabled; QEMU logs vram for the display.
        vramGpa = VRAM_BAR;
        slot(SLOT_VRAM, Memslot.KVM_MEM_LOG_DIRTY_PAGES, vramGpa, VRAM_SIZE, vram);
        // The VGA BIOS prints in text mode (MMIO: no slot at 0xb8000), then SeaBIOS writes its tables.
        vm.run(0, 40, i -> TEXT_MODE_BUFFER + (i % 4) * PAGE, i -> true, 300);
        touchRange(0, ramTop - (512L << 10), 512L << 10, true, 100);
        // make_bios_readonly().
        pamAll(Pam.RAM_RO);
        // GRUB: a VBE graphics mode maps the banked window onto vram; each bank switch re-creates it elsewhere.
        for (int bank = 0; bank < 4; bank++) {
            slot(SLOT_VGA_WINDOW, 0, VGA_WINDOW, VGA_BANK, vram + bank * VGA_BANK);
            touchRange(0, VGA_WINDOW, VGA_BANK, true, 50);
            slot(SLOT_VGA_WINDOW, 0, VGA_WINDOW, 0, 0);
        }
        slot(SLOT_VGA_WINDOW, 0, VGA_WINDOW, VGA_BANK, vram);
        // Disk reads through the BIOS, the kernel at 16 MiB and the initrd below the top of RAM.
        touchRandom(0, 0xf0000, 0x10000, 64, 0, 300);
        touchRange(0, 16L << 20, 16L << 20, true, 20);
        touchRange(0, ramTop - (24L << 20), 8L << 20, true, 20);
        // The decompressor turns on paging (CR4.PAE, then CR0.PG with EFER.LME) and writes the kernel out.
        reset(0);
        reset(0);
        touchRange(0, 32L << 20, 16L << 20, true, 20);
        // start_kernel: CR0.WP, then CR4.SMEP/SMAP.
        reset(0);
        reset(0);
    }

    // ---------------------------------------------------------------- phase 2: Linux brings up the APs

    /**
     * smp_init(): one AP at a time, INIT-SIPI-SIPI, the real-mode trampoline at 0x9a000, paging on, its own CR0.WP
     * and CR4, its per-CPU areas; then it idles. The BSP keeps running meanwhile.
     */
    private void smpBringUp() {
        boolean[] done = new boolean[1];
        SimThread bsp = vm.spawn("bsp", () -> {
            while (!done[0]) {
                touchRandom(0, 64L << 20, cfg.ramBytes() - (96L << 20), 32, 0.5, 500);
            }
        });
        for (int a = 1; a < cfg.vcpus(); a++) {
            int ap = a;
            SimThread t = vm.spawn("ap" + ap, () -> {
                reset(ap);
                vm.run(ap, 4, i -> 0x9a000 + i * PAGE, i -> i % 2 == 0, 100);
                reset(ap);
                reset(ap);
                vm.run(ap, 8, i -> 0x9a000 + (i % 4) * PAGE, i -> false, 100);
                reset(ap);
                reset(ap);
                touchRandom(ap, 64L << 20, cfg.ramBytes() - (96L << 20), 64, 1, 200);
            });
            vm.sched.join(t);
        }
        done[0] = true;
        vm.sched.join(bsp);
    }

    // ---------------------------------------------------------------- phase 3: the kernel's init, all vCPUs

    private void kernelInit() {
        long span = cfg.refreshes() * cfg.refreshPeriodNs();
        long start = vm.sched.now();
        List<SimThread> threads = new ArrayList<>();
        for (int v = 0; v < cfg.vcpus(); v++) {
            int id = v;
            SplittableRandom r = random.split();
            threads.add(vm.spawn("vcpu" + id, () -> kernelVcpu(id, r, span)));
        }
        SplittableRandom hostRandom = random.split();
        threads.add(vm.spawn("host", () -> hostEvents(hostRandom, start, span)));
        // The VMM: display refreshes, and Linux's PCI probe (decode off/on twice), BAR reassignment, DRM takeover.
        long[] pciAt = {span / 10, span / 10 + 20_000, span / 5, span / 5 + 20_000, span / 3, span / 2};
        int nextPci = 0;
        smisTaken = new int[cfg.vcpus()];
        for (int r = 0; r < cfg.refreshes(); r++) {
            if (cfg.runtimeSmis() > 0 && smisRaised < cfg.runtimeSmis() && r % Math.max(1, cfg.refreshes() / cfg.runtimeSmis()) == 1) {
                smisRaised++; // the VMM raises a broadcast SMI (KVM_SMI on every vCPU)
            }
            long now = vm.sched.now() - start;
            while (nextPci < pciAt.length && pciAt[nextPci] <= now) {
                pciEvent(nextPci++);
            }
            if (vramGpa >= 0) {
                attribute("KVM_GET_DIRTY_LOG", () -> vm.dirtyLog.get(SLOT_VRAM));
            }
            vm.sched.sleep(cfg.refreshPeriodNs());
        }
        while (nextPci < pciAt.length) {
            pciEvent(nextPci++);
        }
        vm.joinAll(threads);
    }

    private void pciEvent(int i) {
        switch (i) {
            case 0, 2 -> {
                slot(SLOT_VRAM, 0, vramGpa, 0, 0);
                vramGpa = -1;
            }
            case 1, 3 -> {
                vramGpa = VRAM_BAR;
                slot(SLOT_VRAM, Memslot.KVM_MEM_LOG_DIRTY_PAGES, vramGpa, VRAM_SIZE, vram);
            }
            case 4 -> {
                // The BAR reassigned while decode stays on: the same slot at a new gpa.
                slot(SLOT_VRAM, Memslot.KVM_MEM_LOG_DIRTY_PAGES, VRAM_BAR_MOVED, VRAM_SIZE, vram);
                vramGpa = VRAM_BAR_MOVED;
            }
            case 5 -> slot(SLOT_VGA_WINDOW, 0, VGA_WINDOW, 0, 0);
            default -> throw new IllegalArgumentException("no PCI event " + i);
        }
    }

    /** One vCPU of the booting kernel: page zeroing and first touches in runs of 64, idle between; fbcon on vCPU 0. */
    private void kernelVcpu(int v, SplittableRandom r, long span) {
        long ramLen = cfg.ramBytes() - (64L << 20);
        int left = cfg.touchesPerVcpu();
        if (cfg.smm() && v == 0) {
            smi(0); // acpi_enable(): ACPI_ENABLE written to the SMI command port
        }
        long idleMean = Math.max(1, span / Math.max(1, cfg.touchesPerVcpu() / 64) / 2);
        while (left > 0) {
            int n = Math.min(64, left);
            left -= n;
            long[] gpas = new long[n];
            for (int i = 0; i < n; i++) {
                gpas[i] = (64L << 20) + r.nextLong(ramLen / PAGE) * PAGE;
            }
            vm.run(v, n, i -> gpas[i], i -> true, 300);
            if (v == 0 && vramGpa >= 0 && r.nextInt(3) != 0) {
                long fb = vramGpa;
                int line = r.nextInt(64);
                vm.run(0, 8, i -> fb + (line * 8L + i) * PAGE, i -> true, 200);
            }
            vm.halt(r.nextLong(2 * idleMean));
            while (smisTaken[v] < smisRaised) { // a halted vCPU takes the SMI when its halt ends
                smisTaken[v]++;
                smi(v);
            }
        }
    }

    /** The host's invalidations at random times of the kernel phase, in time order. */
    private void hostEvents(SplittableRandom r, long start, long span) {
        record Event(long at, int kind) {
        }
        List<Event> events = new ArrayList<>();
        int[] counts = {cfg.thpSplits(), cfg.migrations(), cfg.numaScans(), cfg.foreignUnmaps()};
        for (int k = 0; k < counts.length; k++) {
            for (int i = 0; i < counts[k]; i++) {
                events.add(new Event(r.nextLong(span), k));
            }
        }
        events.sort((a, b) -> Long.compare(a.at(), b.at()));
        long hugePages = (cfg.ramBytes() - (64L << 20)) >>> 21;
        for (Event e : events) {
            long wait = start + e.at() - vm.sched.now();
            if (wait > 0) {
                vm.sched.sleep(wait);
            }
            long huge = ram + (64L << 20) + r.nextLong(hugePages) * (2L << 20);
            notifications++;
            long page = huge + r.nextLong(512) * PAGE;
            switch (e.kind()) {
                case 0 -> attribute("THP split", () -> vm.mm.madviseDontneed(page, PAGE));
                case 1 -> attribute("migration", () -> vm.mm.madviseDontneed(page, PAGE));
                case 2 -> attribute("NUMA scan", () -> vm.mm.mprotect(huge, 2L << 20, true));
                default -> attribute("munmap outside memslots", () -> {
                    long buf = vm.mm.mmap(1L << 20, Backing.ANON);
                    vm.mm.write(buf, 8, 1);
                    vm.mm.munmap(buf, 1L << 20);
                });
            }
        }
    }

    // ---------------------------------------------------------------- the command line

    public static void main(String[] args) {
        BenchArgs a = new BenchArgs("seed-boot", args, Set.of("seed", "vcpus", "ram-mib", "aps-spin", "smm", "smis"));
        Config cfg = Config.standard().withVcpus((int) a.number("vcpus", 8)).withRam(a.number("ram-mib", 512) << 20)
                .withApsSpinningInFirmware(a.number("aps-spin", 0) != 0).withSmm(a.number("smm", 0) != 0);
        long smis = a.number("smis", 0);
        if (smis > 0 && !cfg.smm()) {
            throw new IllegalArgumentException("seed-boot: --smis " + smis + " needs --smm 1 (SMIs need a machine with SMM)");
        }
        cfg = cfg.withRuntimeSmis((int) Math.min(smis, 10_000));
        long seed = a.number("seed", 1);
        System.out.printf(Locale.ROOT, "# seed-boot: %d vCPUs, %d MiB THP-backed RAM, APs %s in firmware, %s, seed %d%n", cfg.vcpus(),
                cfg.ramBytes() >> 20, cfg.apsSpinInFirmware() ? "polling a mailbox" : "halted",
                cfg.smm() ? "SMM (" + cfg.runtimeSmis() + " broadcast SMIs after boot)" : "no SMM", seed);
        System.out.println("| policy | remote_tlb_flush | remote_tlb_flush_requests | firmware | smp | kernel | virtual time | memslot ioctls | resets | SMIs | notifications | pf_taken | oracle |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        List<Result> results = new ArrayList<>();
        for (Policy p : a.policies("legacy", "current", "pre-tdp")) {
            Result r = new BootWorkload(cfg, p, seed).run();
            System.out.println(row(r));
            results.add(r);
        }
        System.out.println("(firmware, smp, kernel: remote_tlb_flush (requests) of each phase)");
        System.out.println();
        System.out.println("remote_tlb_flush (requests) booked to the operation in progress when they were counted:");
        System.out.println();
        StringBuilder head = new StringBuilder("| source |");
        StringBuilder rule = new StringBuilder("|---|");
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (Result r : results) {
            head.append(" `").append(r.policy().name()).append("` |");
            rule.append("---|");
            names.addAll(r.sources().keySet());
        }
        System.out.println(head);
        System.out.println(rule);
        for (String n : names) {
            StringBuilder line = new StringBuilder("| " + n + " |");
            for (Result r : results) {
                Flushes f = r.sources().getOrDefault(n, new Flushes(0, 0));
                line.append(String.format(Locale.ROOT, " %d (%d) |", f.flushes(), f.requests()));
            }
            System.out.println(line);
        }
    }

    static String row(Result r) {
        StringBuilder phases = new StringBuilder();
        for (Flushes f : r.phases().values()) {
            phases.append(String.format(Locale.ROOT, " | %d (%d)", f.flushes(), f.requests()));
        }
        return String.format(Locale.ROOT, "| `%s` | %d | %d%s | %.3f ms | %d | %d | %d | %d | %d | %d |", r.policy().name(), r.remoteTlbFlush(),
                r.remoteTlbFlushRequests(), phases, r.virtualNs() / 1e6, r.memslotIoctls(), r.resets(), r.smis(), r.notifications(), r.pfTaken(),
                r.violations());
    }
}
