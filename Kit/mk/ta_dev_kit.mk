# rproc-tee TA dev kit: builds an OP-TEE TA, with its own unmodified Makefile and sub.mk files,
# into an x86-64 shared object that rproc-tee's TA hosts load — signed in OP-TEE's format
# (<uuid>.ta), with <uuid>.elf (unstripped, for gdb), <uuid>.map and <uuid>.dmp beside it.
#
# The Makefile sets exactly one of BINARY (a TA: its UUID), LIBNAME (a static library) or
# SHLIBNAME + SHLIBUUID (a TA library other TAs need by UUID), then includes this file.
# sub.mk files say what to build: srcs-y, srcs_ext-y (+ srcs_ext_base-y), subdirs-y,
# subdirs_ext-y, global-incdirs-y, global-incdirs_ext-y, global-cppflags-y, incdirs-y,
# incdirs_ext-y, incdirs-<file>-y, cflags/cxxflags/cppflags/aflags-y and their -<file>-y and
# -remove- forms, oname-<file>-y, gensrcs-y (produce-, depends-, recipe-<g>). The Makefile may
# set O (output folder), V=1, CFLAGS, CPPFLAGS, CXXFLAGS, LDADD, libnames/libdirs/libdeps,
# WARNS, CFG_* (each becomes -DCFG_X=1 for y, -DCFG_X=value otherwise — after every sub.mk is
# read, so that a sub.mk's defaults count), TA_SIGN_KEY, SIGN_ENC.
#
# Differences from OP-TEE's kit, on purpose: a TA is linked -shared (glibc cannot load a PIE)
# with -Bsymbolic (its own symbols are its own, whatever the host defines) and -z defs (a
# function the kit does not provide is an error now, not at load time); the C library is
# glibc's (its headers too); Arm-only compiler flags a TA passes are dropped; CROSS_COMPILE is
# ignored (examples pass an Arm one) — the compiler is $(CC_ta_x86_64), else gcc or clang
# (COMPILER=clang).

ta-dev-kit-dir := $(patsubst %/,%,$(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..))
include $(ta-dev-kit-dir)/mk/conf.mk

# The default goal, before any rule the sub.mk files bring.
.PHONY: all clean
all:

ifneq ($(words $(strip $(BINARY) $(LIBNAME) $(SHLIBNAME))),1)
$(error the TA's Makefile must set exactly one of BINARY, LIBNAME or SHLIBNAME)
endif
ifneq ($(SHLIBNAME),)
ifeq ($(SHLIBUUID),)
$(error SHLIBNAME needs SHLIBUUID (the UUID other TAs name it by))
endif
endif

out-dir := $(patsubst %/,%,$(if $(O),$(abspath $(O)),$(CURDIR)))
link-out-dir := $(out-dir)
cleanfiles :=

ifeq ($(V),1)
q :=
cmd-echo-silent := true
else
q := @
cmd-echo-silent := echo
endif

ifeq ($(COMPILER),clang)
ta-cc := $(or $(CC_ta_x86_64),clang)
ta-cxx := $(or $(CXX_ta_x86_64),clang++)
else
ta-cc := $(or $(CC_ta_x86_64),gcc)
ta-cxx := $(or $(CXX_ta_x86_64),g++)
endif
ta-objcopy ?= objcopy
ta-objdump ?= objdump
ta-ar ?= ar

SIGN_ENC ?= $(ta-dev-kit-dir)/scripts/sign_encrypt
TA_SIGN_KEY ?= $(ta-dev-kit-dir)/keys/default_ta.pem
CFG_TA_VERSION ?= 0
# CFG_ENCRYPT_TA=y: the TA is encrypted (AES-256-GCM) with TA_ENC_KEY (64 hex digits; default the
# kit's development key), for the device key TA_ENC_KEY_TYPE names, as OP-TEE's build does.
CFG_ENCRYPT_TA ?= n
TA_ENC_KEY ?= $(shell cat $(ta-dev-kit-dir)/keys/default_ta_enc.key)
TA_ENC_KEY_TYPE ?= SHDR_ENC_KEY_DEV_SPECIFIC
ta-enc-args := $(if $(filter y,$(CFG_ENCRYPT_TA)),--enc-key $(TA_ENC_KEY) --enc-key-type $(TA_ENC_KEY_TYPE))

# Flags for Arm targets that x86-64 compilers refuse.
arm-only-flags := -mcpu=% -march=arm% -march=armv% -mtune=cortex% -mfloat-abi=% -mfpu=% -mthumb -marm \
	-mno-unaligned-access -mstrict-align -mgeneral-regs-only -mbranch-protection=% -mabi=aapcs%

WARNS ?= 3
warn-flags-1 := -Wall -Wcast-align -Werror-implicit-function-declaration -Wextra -Wfloat-equal \
	-Wformat-nonliteral -Wformat-security -Wformat=2 -Winit-self -Wmissing-declarations \
	-Wmissing-format-attribute -Wmissing-include-dirs -Wmissing-noreturn -Wmissing-prototypes \
	-Wnested-externs -Wpointer-arith -Wshadow -Wstrict-prototypes -Wswitch-default \
	-Wwrite-strings -Wno-missing-field-initializers -Wno-format-zero-length -Wno-unused-parameter
warn-flags-2 := -Wold-style-definition -Wredundant-decls
warn-flags-3 := -Wswitch-enum -Wcast-qual
ta-warnings := $(if $(filter-out 0,$(WARNS)),$(warn-flags-1)) $(if $(filter 2 3,$(WARNS)),$(warn-flags-2)) $(if $(filter 3,$(WARNS)),$(warn-flags-3))
ifeq ($(CFG_WERROR),y)
ta-warnings += -Werror
endif

ta-common := -fPIC -g -O2 -fno-common -fvisibility=default
ta-cppflags := -D_GNU_SOURCE -DTRACE_LEVEL=$(CFG_TEE_TA_LOG_LEVEL) \
	$(if $(filter y,$(CFG_TA_OPTEE_CORE_API_COMPAT_1_1)),-D__OPTEE_CORE_API_COMPAT_1_1=1) $(CPPFLAGS)
ta-cflags := -std=gnu11 $(ta-common) $(ta-warnings) $(CFLAGS) $(CFLAGS64)
ta-cxxflags := $(ta-common) $(CXXFLAGS)
ta-aflags := $(ta-common) $(AFLAGS)

# --- sub.mk files -----------------------------------------------------------------------
srcs :=
global-incdirs :=
global-cppflags :=
ta-per-dir-vars := srcs-y srcs_ext-y srcs_ext_base-y subdirs-y subdirs_ext-y global-incdirs-y \
	global-incdirs_ext-y global-cppflags-y incdirs-y incdirs_ext-y cflags-y cxxflags-y cppflags-y \
	aflags-y cflags-remove-y cxxflags-remove-y cppflags-remove-y aflags-remove-y gensrcs-y \
	cflags-lib-y cxxflags-lib-y cppflags-lib-y incdirs-lib-y asm-defines-y
$(foreach v,$(ta-per-dir-vars),$(eval $(v) :=))

# An object's path in the output folder: ../ becomes __/ so that every object stays inside it.
ta-object = $(out-dir)/$(subst ../,__/,$(patsubst /%,_abs/%,$(patsubst ./%,%,$(basename $(1))))).o

# $1: the name the sub.mk used for it, $2: the source's path, $3: the object (or empty).
define ta-add-source
ta-object-of-$2 := $$(if $$(oname-$1-y),$(out-dir)/$$(oname-$1-y),$$(if $3,$3,$$(call ta-object,$2)))
srcs += $2
ta-cflags-of-$2 := $$(cflags-y) $$(cflags-$1-y)
ta-cflags-remove-of-$2 := $$(cflags-remove-y) $$(cflags-remove-$1-y)
ta-cxxflags-of-$2 := $$(cxxflags-y) $$(cxxflags-$1-y)
ta-cxxflags-remove-of-$2 := $$(cxxflags-remove-y) $$(cxxflags-remove-$1-y)
ta-cppflags-of-$2 := $$(cppflags-y) $$(cppflags-$1-y)
ta-cppflags-remove-of-$2 := $$(cppflags-remove-y) $$(cppflags-remove-$1-y)
ta-aflags-of-$2 := $$(aflags-y) $$(aflags-$1-y)
ta-incdirs-of-$2 := $$(ta-dir-incdirs) $$(addprefix $$(sub-dir)/,$$(incdirs-$1-y))
cflags-$1-y :=
cflags-remove-$1-y :=
cxxflags-$1-y :=
cxxflags-remove-$1-y :=
cppflags-$1-y :=
cppflags-remove-$1-y :=
aflags-$1-y :=
incdirs-$1-y :=
oname-$1-y :=
endef

# A generated source: $1 the gensrcs-y name.
define ta-add-gensrc
ta-gen-$1 := $$(sub-dir-out)/$$(produce-$1)
cleanfiles += $$(ta-gen-$1)
ta-recipe-$$(ta-gen-$1) := $$(recipe-$1)
$$(ta-gen-$1): $$(depends-$1)
	@$$(cmd-echo-silent) '  GEN     $$@'
	$$(q)mkdir -p $$(dir $$@)
	$$(q)$$(ta-recipe-$$@)
$$(eval $$(call ta-add-source,$1,$$(ta-gen-$1),$$(basename $$(ta-gen-$1)).o))
endef

define ta-process-subdir
sub-dir := $1
sub-dir-out := $$(patsubst %/,%,$(out-dir)/$(patsubst .,,$1))
include $1/sub.mk
ta-subdirs-of-$1 := $$(addprefix $1/,$$(subdirs-y)) $$(subdirs_ext-y)
global-incdirs += $$(addprefix $1/,$$(global-incdirs-y)) $$(global-incdirs_ext-y)
global-cppflags += $$(global-cppflags-y)
ta-dir-incdirs := $$(addprefix $1/,$$(incdirs-y)) $$(incdirs_ext-y)
$$(foreach g,$$(gensrcs-y),$$(eval $$(call ta-add-gensrc,$$(g))))
$$(foreach s,$$(srcs-y),$$(eval $$(call ta-add-source,$$(s),$$(if $$(filter /%,$$(s)),$$(s),$$(patsubst ./%,%,$1/$$(s))),)))
$$(foreach s,$$(srcs_ext-y),$$(eval $$(call ta-add-source,$$(s),$$(firstword $$(srcs_ext_base-y))/$$(s),$$(call ta-object,$1/$$(s)))))
$$(foreach v,$(ta-per-dir-vars),$$(eval $$(v) :=))
$$(foreach d,$$(ta-subdirs-of-$1),$$(eval $$(call ta-process-subdir,$$(patsubst ./%,%,$$(d)))))
endef

$(eval $(call ta-process-subdir,.))

ifneq ($(BINARY),)
# The kit's own source, built with the TA's include paths (its user_ta_header_defines.h).
$(eval $(call ta-add-source,user_ta_header.c,$(ta-dev-kit-dir)/src/user_ta_header.c,$(out-dir)/user_ta_header.o))
# An AddressSanitizer build: OP-TEE's switch for its sanitizer tests (os_test, xtest 1042), and
# the kit's implementation of them, instrumented and recoverable (include/asan_test.h).
ifneq ($(findstring address,$(filter -fsanitize=%,$(CFLAGS))),)
CFG_TA_SANITIZE_KADDRESS ?= y
cflags-rproc_tee_asan_test.c-y := -fsanitize-recover=address -fno-sanitize=undefined
$(eval $(call ta-add-source,rproc_tee_asan_test.c,$(ta-dev-kit-dir)/src/asan_test.c,$(out-dir)/rproc_tee_asan_test.o))
endif
endif

# CFG_* settings become defines once every sub.mk has been read.
ta-cfg-vars := $(sort $(filter CFG_% _CFG_%,$(.VARIABLES)))
ta-cfg-defines := $(foreach v,$(ta-cfg-vars),$(if $(filter y,$($(v))),-D$(v)=1,$(if $(filter-out n,$(strip $($(v)))),-D$(v)=$(strip $($(v))))))

ta-includes := -I. $(addprefix -I,$(global-incdirs)) -I$(ta-dev-kit-dir)/include

objs := $(foreach s,$(srcs),$(ta-object-of-$(s)))
cleanfiles += $(objs) $(objs:.o=.d)

ta-flags-for = $(filter-out $(arm-only-flags) $(ta-cflags-remove-of-$1) $(ta-cppflags-remove-of-$1) $(CFLAGS_REMOVE),\
	$(ta-cflags) $(ta-cflags-of-$1) $(ta-cppflags) $(global-cppflags) $(ta-cppflags-of-$1) $(ta-cfg-defines)) \
	$(addprefix -I,$(ta-incdirs-of-$1)) $(ta-includes)
ta-cxxflags-for = $(filter-out $(arm-only-flags) $(ta-cxxflags-remove-of-$1) $(ta-cppflags-remove-of-$1) $(CXXFLAGS_REMOVE),\
	$(ta-cxxflags) $(ta-cxxflags-of-$1) $(ta-cppflags) $(global-cppflags) $(ta-cppflags-of-$1) $(ta-cfg-defines)) \
	$(addprefix -I,$(ta-incdirs-of-$1)) $(ta-includes)
ta-aflags-for = $(filter-out $(arm-only-flags),$(ta-aflags) $(ta-aflags-of-$1) $(ta-cppflags) $(global-cppflags) $(ta-cfg-defines)) \
	$(addprefix -I,$(ta-incdirs-of-$1)) $(ta-includes)

ta-cxx-srcs := $(filter %.cpp %.cc %.cxx %.C,$(srcs))

define ta-compile-rule
$(ta-object-of-$1): $1
	@$$(cmd-echo-silent) '  $$(if $$(filter %.cpp %.cc %.cxx %.C,$1),CXX,$$(if $$(filter %.S %.s,$1),AS,CC))      $$@'
	$$(q)mkdir -p $$(dir $$@)
	$$(q)$$(if $$(filter %.cpp %.cc %.cxx %.C,$1),$$(ta-cxx) $$(call ta-cxxflags-for,$1),$$(ta-cc) $$(if $$(filter %.S %.s,$1),$$(call ta-aflags-for,$1),$$(call ta-flags-for,$1))) -MD -MP -c $1 -o $$@
endef
$(foreach s,$(srcs),$(eval $(call ta-compile-rule,$(s))))
-include $(objs:.o=.d)

ta-linker := $(if $(ta-cxx-srcs),$(ta-cxx),$(ta-cc))
# A sanitizer or coverage asked for in CFLAGS needs its runtime at link time too.
ta-link-instrumentation := $(filter -fsanitize=% -fno-sanitize% --coverage -fprofile-arcs,$(CFLAGS) $(CXXFLAGS))
ta-libs := -L$(ta-dev-kit-dir)/lib $(addprefix -L,$(libdirs)) $(addprefix -l,$(libnames)) -lutee -ldl
ta-link-flags := -shared -Wl,-Bsymbolic -Wl,-z,defs -Wl,-z,now -Wl,-z,max-page-size=4096 -Wl,--build-id \
	-Wl,-rpath,'$$ORIGIN' -Wl,--as-needed

ifneq ($(BINARY),)
ta-outputs := $(out-dir)/$(BINARY).elf $(out-dir)/$(BINARY).stripped.elf $(out-dir)/$(BINARY).dmp $(out-dir)/$(BINARY).ta
all: $(ta-outputs)
cleanfiles += $(ta-outputs) $(out-dir)/$(BINARY).map

$(out-dir)/$(BINARY).elf: $(objs) $(libdeps) $(ta-dev-kit-dir)/lib/libutee.so
	@$(cmd-echo-silent) '  LD      $@'
	$(q)$(ta-linker) $(ta-link-flags) $(ta-link-instrumentation) -Wl,-soname,$(BINARY) -Wl,-Map=$(out-dir)/$(BINARY).map -o $@ $(objs) $(LDADD) $(ta-libs)

$(out-dir)/$(BINARY).stripped.elf: $(out-dir)/$(BINARY).elf
	@$(cmd-echo-silent) '  OBJCOPY $@'
	$(q)$(ta-objcopy) --strip-unneeded $< $@

$(out-dir)/$(BINARY).dmp: $(out-dir)/$(BINARY).elf
	@$(cmd-echo-silent) '  OBJDUMP $@'
	$(q)$(ta-objdump) -l -x -d $< > $@

$(out-dir)/$(BINARY).ta: $(out-dir)/$(BINARY).stripped.elf $(TA_SIGN_KEY) $(TA_SUBKEY_DEPS)
	@$(cmd-echo-silent) '  SIGN    $@'
	$(q)$(SIGN_ENC) --key $(TA_SIGN_KEY) $(TA_SUBKEY_ARGS) --uuid $(BINARY) --ta-version $(CFG_TA_VERSION) $(ta-enc-args) --in $< --out $@ > /dev/null
endif

comma := ,

ifneq ($(LIBNAME),)
all: $(out-dir)/lib$(LIBNAME).a
cleanfiles += $(out-dir)/lib$(LIBNAME).a
$(out-dir)/lib$(LIBNAME).a: $(objs)
	@$(cmd-echo-silent) '  AR      $@'
	$(q)rm -f $@ && $(ta-ar) rcs $@ $^
endif

ifneq ($(SHLIBNAME),)
# SHLIBNAME is the file's name ("libos_test" gives libos_test.so). A library may use symbols of
# the TA that loads it (OP-TEE's os_test_lib does): no -z defs here.
ta-shlib := $(out-dir)/$(SHLIBNAME)
ta-shlib-outputs := $(ta-shlib).so $(ta-shlib).stripped.so $(ta-shlib).dmp $(out-dir)/$(SHLIBUUID).elf $(out-dir)/$(SHLIBUUID).ta
all: $(ta-shlib-outputs)
cleanfiles += $(ta-shlib-outputs) $(ta-shlib).map

$(ta-shlib).so: $(objs) $(libdeps)
	@$(cmd-echo-silent) '  LD      $@'
	$(q)$(ta-linker) $(filter-out -Wl$(comma)-z$(comma)defs,$(ta-link-flags)) $(ta-link-instrumentation) -Wl,-soname,$(SHLIBUUID) -Wl,-Map=$(ta-shlib).map -o $@ $(objs) $(LDFLAGS) $(LDADD) $(ta-libs)

$(ta-shlib).stripped.so: $(ta-shlib).so
	$(q)$(ta-objcopy) --strip-unneeded $< $@

$(ta-shlib).dmp: $(ta-shlib).so
	$(q)$(ta-objdump) -l -x -d $< > $@

$(out-dir)/$(SHLIBUUID).elf: $(ta-shlib).so
	$(q)ln -sf $(SHLIBNAME).so $@

$(out-dir)/$(SHLIBUUID).ta: $(ta-shlib).stripped.so $(TA_SIGN_KEY)
	@$(cmd-echo-silent) '  SIGN    $@'
	$(q)$(SIGN_ENC) --key $(TA_SIGN_KEY) $(TA_SUBKEY_ARGS) --uuid $(SHLIBUUID) --ta-version $(CFG_TA_VERSION) $(ta-enc-args) --in $< --out $@ > /dev/null
endif

clean:
	@$(cmd-echo-silent) '  CLEAN   $(out-dir)'
	$(q)rm -f $(cleanfiles)
