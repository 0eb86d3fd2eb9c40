// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.Backend;
import dev.kvmharness.harness.Stats;
import dev.kvmharness.harness.Vcpu;
import dev.kvmharness.harness.Vm;
import dev.kvmharness.harness.VmShape;
import java.lang.reflect.Parameter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The parameters of one {@link OnBackends} run: the {@link Backend}; each {@link Vm} parameter a VM of its own,
 * shaped by the nearest {@link WithVm}; the n-th {@link Vcpu} parameter vCPU n of the first VM (made for it if no
 * {@code Vm} parameter asks for it). After the test each VM's stats delta is published as report entries
 * {@code kvm.<backend>.<stat>} (the first VM) or {@code kvm.<backend>.vm<n>.<stat>}; the VMs are closed when the
 * run's store is ({@link TestVms}).
 */
final class VmParameters implements ParameterResolver, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(VmParameters.class);
    private final Backend backend;

    VmParameters(Backend backend) {
        this.backend = backend;
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext context) {
        Class<?> t = p.getParameter().getType();
        return t == Backend.class || t == Vm.class || t == Vcpu.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext context) {
        Class<?> t = p.getParameter().getType();
        if (t == Backend.class) {
            return backend;
        }
        if (t == Vm.class) {
            return vms(context).get(ordinal(p, Vm.class), () -> createVm(context));
        }
        Vm vm = vms(context).get(0, () -> createVm(context));
        int n = ordinal(p, Vcpu.class);
        if (n >= vm.vcpus().size()) {
            throw new ParameterResolutionException(String.format("parameter %d is vCPU %d, but the VM has %d vCPU(s):"
                    + " raise @WithVm(vcpus = ...)", p.getIndex(), n, vm.vcpus().size()));
        }
        return vm.vcpu(n);
    }

    private static TestVms vms(ExtensionContext context) {
        return context.getStore(NS).getOrComputeIfAbsent(TestVms.class, k -> new TestVms(), TestVms.class);
    }

    /** How many parameters of {@code type} come before this one: which VM, which vCPU. */
    private static int ordinal(ParameterContext p, Class<?> type) {
        Parameter[] all = p.getDeclaringExecutable().getParameters();
        int n = 0;
        for (int i = 0; i < p.getIndex(); i++) {
            if (all[i].getType() == type) {
                n++;
            }
        }
        return n;
    }

    private Vm createVm(ExtensionContext context) {
        WithVm shape = Annotations.nearest(context, WithVm.class).orElseThrow(() -> new ParameterResolutionException(
                "a Vm or Vcpu parameter needs @WithVm on the method or its class: " + context.getDisplayName()));
        return backend.createVm(VmShape.of(GuestPrograms.of(shape, context.getRequiredTestClass()), shape.vcpus())
                .withExtraMemPages(shape.extraMemPages()).withRunTimeout(Duration.ofSeconds(shape.runTimeoutSeconds())));
    }

    /** Each VM's stats delta (VM stats, vCPU stats summed), as report entries. */
    @Override
    public void afterEach(ExtensionContext context) {
        TestVms vms = context.getStore(NS).get(TestVms.class, TestVms.class);
        if (vms == null) {
            return;
        }
        List<TestVms.Made> made = vms.made();
        for (int i = 0; i < made.size(); i++) {
            if (made.get(i) == null) {
                continue;
            }
            String prefix = "kvm." + backend.name() + "." + (i == 0 ? "" : "vm" + i + ".");
            Stats.Delta d = made.get(i).vm().stats().delta(made.get(i).before());
            Map<String, String> entries = new LinkedHashMap<>();
            d.vm().forEach((name, v) -> entries.put(prefix + name, Long.toString(v[0])));
            d.vcpuTotal().forEach((name, v) -> entries.put(prefix + "vcpu." + name, Long.toString(v[0])));
            context.publishReportEntry(entries);
        }
    }
}
