#!/usr/bin/env python3
"""Extracts the known-answer vectors rproc-tee's tests use from the PyPI package
`cryptography_vectors` (the pyca/cryptography project's copy of the NIST CAVP files).

Usage:  pip download --no-deps cryptography_vectors==50.0.2 && unzip cryptography_vectors-*.whl
        python3 extract.py PATH/TO/cryptography_vectors  (writes into this folder)

Whole files are copied as they are. From the large multi-algorithm files only the sections
for algorithms TEECrypto implements are kept, each record unchanged; a comment at the top of
every written file names its source file and the filter applied.
"""
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "cryptography_vectors"
OUT = os.path.dirname(os.path.abspath(__file__))


def read(rel):
    with open(os.path.join(SRC, rel)) as f:
        return f.read()


def write(name, source_rel, note, body):
    header = (f"# rproc-tee: extracted from cryptography_vectors 50.0.2, {source_rel}\n"
              f"# Filter: {note}\n")
    with open(os.path.join(OUT, name), "w") as f:
        f.write(header + body)


def copy(name, rel):
    write(name, rel, "none (whole file)", read(rel))


def sections(text):
    """Splits a CAVP file into (header, [(bracket line, body)])."""
    parts = re.split(r"^(\[[^\]]*\])\s*$", text, flags=re.M)
    return parts[0], [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def records(body):
    return [r for r in re.split(r"\n\s*\n", body) if r.strip()]


def keep_sections(rel, name, wanted, note):
    head, secs = sections(read(rel))
    out = head
    for bracket, body in secs:
        if bracket in wanted:
            out += bracket + "\n" + body
    write(name, rel, note, out)


def keep_rsa(rel, name, mods, sha, note):
    """RSA files: keep [mod = N] sections for N in mods, and within them the records whose
    SHAAlg is `sha` plus the key records (n / e / d / p / q) that precede them."""
    head, secs = sections(read(rel))
    out = head
    for bracket, body in secs:
        m = re.match(r"\[mod = (\d+)\]", bracket)
        if not m or int(m.group(1)) not in mods:
            continue
        out += bracket + "\n\n"
        for rec in records(body):
            alg = re.search(r"^SHAAlg = (\S+)", rec, flags=re.M)
            if alg is None or alg.group(1) == sha:
                out += rec.strip("\n") + "\n\n"
    write(name, rel, note, out)


def keep_gcm(rel, name, note):
    head, secs = sections(read(rel))
    out = head
    group = []
    for bracket, body in secs:
        group.append((bracket, body))
        if bracket.startswith("[Taglen"):
            params = dict(re.match(r"\[(\w+) = (\d+)\]", b).groups() for b, _ in group)
            if params["IVlen"] == "96" and params["Taglen"] == "128":
                for b, bd in group:
                    out += b + "\n" + bd
            group = []
    write(name, rel, note, out)


for alg in ("SHA256ShortMsg", "SHA256LongMsg", "SHA256Monte", "SHA384ShortMsg", "SHA512ShortMsg", "SHA224ShortMsg"):
    copy(f"{alg}.rsp", f"hashes/SHA2/{alg}.rsp")
copy("SHA1ShortMsg.rsp", "hashes/SHA1/SHA1ShortMsg.rsp")
copy("MD5_RFC1321.txt", "hashes/MD5/rfc-1321.txt")
for bits in (224, 256, 384, 512):
    copy(f"SHA3_{bits}ShortMsg.rsp", f"hashes/SHA3/SHA3_{bits}ShortMsg.rsp")
for bits in (128, 256):
    copy(f"SHAKE{bits}ShortMsg.rsp", f"hashes/SHAKE/SHAKE{bits}ShortMsg.rsp")

keep_sections("asymmetric/ECDSA/FIPS_186-3/SigVer.rsp", "ECDSA_SigVer_186-3.rsp",
              {"[P-192,SHA-256]", "[P-224,SHA-256]", "[P-256,SHA-256]", "[P-384,SHA-384]", "[P-521,SHA-512]"},
              "sections [P-192,SHA-256], [P-224,SHA-256], [P-256,SHA-256], [P-384,SHA-384] and [P-521,SHA-512]")

mods = {2048, 3072, 4096}
for src, name in (("SigVer15_186-3", "RSA_SigVer15_186-3_SHA256.rsp"),
                  ("SigVerPSS_186-3", "RSA_SigVerPSS_186-3_SHA256.rsp"),
                  ("SigGen15_186-3.rsp", "RSA_SigGen15_186-3_SHA256.rsp"),
                  ("SigGen15_186-2.txt", "RSA_SigGen15_186-2_SHA256.txt")):
    src = src if "." in src else src + ".rsp"
    keep_rsa(f"asymmetric/RSA/FIPS_186-2/{src}", name, mods, "SHA256",
             "moduli 2048, 3072, 4096; records with SHAAlg = SHA256 (and the key lines)")

copy("HKDF_RFC5869_SHA256.txt", "KDF/rfc-5869-HKDF-SHA256.txt")
copy("HKDF_RFC5869_SHA1.txt", "KDF/rfc-5869-HKDF-SHA1.txt")
copy("PBKDF2_RFC6070_SHA1.txt", "KDF/rfc-6070-PBKDF2-SHA1.txt")
copy("AES_CBCMMT128.rsp", "ciphers/AES/CBC/CBCMMT128.rsp")
copy("AES_CBCMMT256.rsp", "ciphers/AES/CBC/CBCMMT256.rsp")
for bits in (128, 192, 256):
    copy(f"AES_ECBMMT{bits}.rsp", f"ciphers/AES/ECB/ECBMMT{bits}.rsp")
for keys in (2, 3):
    copy(f"TDES_CBCMMT{keys}.rsp", f"ciphers/3DES/CBC/TCBCMMT{keys}.rsp")
copy("TDES_CMAC.txt", "CMAC/nist-800-38b-3des.txt")
copy("TDES_ECBMMT3.rsp", "ciphers/3DES/ECB/TECBMMT3.rsp")
copy("AES_XTSGenAES128.rsp", "ciphers/AES/XTS/tweak-128hexstr/XTSGenAES128.rsp")
for kind in ("VADT", "VNT", "VPT", "VTT"):
    copy(f"AES_CCM_{kind}128.rsp", f"ciphers/AES/CCM/{kind}128.rsp")
copy("TDES_CBCvarkey.rsp", "ciphers/3DES/CBC/TCBCvarkey.rsp")
copy("TDES_ECBvarkey.rsp", "ciphers/3DES/ECB/TECBvarkey.rsp")
for name in ("rfc-2202-md5", "rfc-2202-sha1", "rfc-4231-sha224", "rfc-4231-sha256", "rfc-4231-sha384", "rfc-4231-sha512"):
    copy(f"HMAC_{name.upper().replace('-', '_')}.txt", f"HMAC/{name}.txt")
copy("AES_CTR_128.txt", "ciphers/AES/CTR/aes-128-ctr.txt")
copy("AES_CTR_256.txt", "ciphers/AES/CTR/aes-256-ctr.txt")
for bits in ("128", "256"):
    keep_gcm(f"ciphers/AES/GCM/gcmEncryptExtIV{bits}.rsp", f"AES_GCM_EncryptExtIV{bits}.rsp",
             "parameter groups with IVlen = 96 and Taglen = 128")
    keep_gcm(f"ciphers/AES/GCM/gcmDecrypt{bits}.rsp", f"AES_GCM_Decrypt{bits}.rsp",
             "parameter groups with IVlen = 96 and Taglen = 128")
for h in ("256", "384", "512"):
    copy(f"RSA_OAEP_SHA{h}.txt", f"asymmetric/RSA/oaep-custom/oaep-sha{h}-sha{h}.txt")
copy("RSA_PKCS1v15_Encryption.txt", "asymmetric/RSA/pkcs1v15crypt-vectors.txt")
copy("DH_RFC5114.txt", "asymmetric/DH/RFC5114.txt")
keep_sections("asymmetric/DSA/FIPS_186-3/SigVer.rsp", "DSA_SigVer_186-3.rsp",
              {"[mod = L=1024, N=160, SHA-1]", "[mod = L=2048, N=224, SHA-224]", "[mod = L=2048, N=256, SHA-256]", "[mod = L=3072, N=256, SHA-256]"},
              "sections L=1024/N=160/SHA-1, L=2048/N=224/SHA-224, L=2048/N=256/SHA-256, L=3072/N=256/SHA-256 (GP's DSA algorithms)")
keep_sections("asymmetric/ECDH/KASValidityTest_ECCStaticUnified_NOKC_ZZOnly_init.fax", "ECDH_KASValidity_ZZOnly.fax",
              {"[EA - SHA1]", "[EB - SHA224]", "[EC - SHA256]", "[ED - SHA384]", "[EE - SHA512]"},
              "sections [EA - SHA1] (P-192), [EB - SHA224] (P-224), [EC - SHA256] (P-256), [ED - SHA384] (P-384) and [EE - SHA512] (P-521)")
for bits in ("128", "192", "256"):
    copy(f"AES_CMAC_{bits}.txt", f"CMAC/nist-800-38b-aes{bits}.txt")
