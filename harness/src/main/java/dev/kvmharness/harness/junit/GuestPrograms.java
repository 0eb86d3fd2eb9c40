// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import dev.kvmharness.harness.guest.GuestBuilder;
import dev.kvmharness.harness.guest.GuestProgram;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.platform.commons.support.ReflectionSupport;

/** The guest program {@link WithVm} names: a static method ({@code guest}) or a supplier class ({@code program}). */
final class GuestPrograms {
    private GuestPrograms() {
    }

    static GuestProgram of(WithVm shape, Class<?> testClass) {
        boolean byMethod = !shape.guest().isEmpty();
        boolean byClass = shape.program() != WithVm.NoProgram.class;
        if (byMethod == byClass) {
            throw new ParameterResolutionException("@WithVm on " + testClass.getName()
                    + ": give exactly one of guest = \"staticMethod\" and program = Supplier.class");
        }
        return byMethod ? fromMethod(shape.guest(), testClass) : fromSupplier(shape.program());
    }

    private static GuestProgram fromSupplier(Class<? extends Supplier<GuestProgram>> factory) {
        try {
            Constructor<? extends Supplier<GuestProgram>> c = factory.getDeclaredConstructor();
            c.setAccessible(true);
            return c.newInstance().get();
        } catch (ReflectiveOperationException e) {
            throw new ParameterResolutionException("@WithVm(program = " + factory.getName() + "): needs a no-argument constructor", e);
        }
    }

    /** {@code name} or {@code fully.qualified.Class#name}, looked up as @MethodSource does. */
    private static GuestProgram fromMethod(String ref, Class<?> testClass) {
        int hash = ref.indexOf('#');
        String name = hash < 0 ? ref : ref.substring(hash + 1);
        Class<?> owner = hash < 0 ? testClass : ReflectionSupport.tryToLoadClass(ref.substring(0, hash)).getOrThrow(
                e -> new ParameterResolutionException("@WithVm(guest = \"" + ref + "\"): no class " + ref.substring(0, hash), e));
        // A @Nested class's guest may live in the class around it.
        for (Class<?> c = owner; c != null; c = hash < 0 ? c.getEnclosingClass() : null) {
            Optional<Method> builder = ReflectionSupport.findMethod(c, name, GuestBuilder.class);
            if (builder.isPresent()) {
                Method m = checkStatic(builder.get(), ref);
                return GuestProgram.define(name, g -> invoke(m, ref, g));
            }
            Optional<Method> supplier = ReflectionSupport.findMethod(c, name);
            if (supplier.isPresent() && GuestProgram.class.isAssignableFrom(supplier.get().getReturnType())) {
                return (GuestProgram) invoke(checkStatic(supplier.get(), ref), ref);
            }
        }
        throw new ParameterResolutionException("@WithVm(guest = \"" + ref + "\"): no static method " + name
                + "(GuestBuilder) or GuestProgram " + name + "() in " + owner.getName());
    }

    private static Method checkStatic(Method m, String ref) {
        if (!Modifier.isStatic(m.getModifiers())) {
            throw new ParameterResolutionException("@WithVm(guest = \"" + ref + "\"): " + m + " must be static");
        }
        m.setAccessible(true);
        return m;
    }

    private static Object invoke(Method m, String ref, Object... args) {
        try {
            return m.invoke(null, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new ParameterResolutionException("@WithVm(guest = \"" + ref + "\") threw", e.getCause());
        } catch (IllegalAccessException e) {
            throw new ParameterResolutionException("@WithVm(guest = \"" + ref + "\"): cannot call " + m, e);
        }
    }
}
