/// Our manifest extension (spec/image-format.md §5): names, versions, an anti-rollback counter,
/// dependencies between the images of a bundle and per-image boot addresses. Every field is
/// optional; an image without them is a plain OP-TEE image.
public struct Manifest: Sendable, Hashable {
    public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var major: UInt16, minor: UInt16, patch: UInt32
        public init(major: UInt16, minor: UInt16, patch: UInt32) {
            self.major = major
            self.minor = minor
            self.patch = patch
        }

        /// Parses `1.2.3` (each part a decimal number within its field's range).
        public init?(_ text: String) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, let a = UInt16(parts[0]), let b = UInt16(parts[1]), let c = UInt32(parts[2]) else { return nil }
            self.init(major: a, minor: b, patch: c)
        }

        public static func < (l: Version, r: Version) -> Bool { (l.major, l.minor, l.patch) < (r.major, r.minor, r.patch) }
        public var description: String { "\(major).\(minor).\(patch)" }
    }

    public struct Dependency: Sendable, Hashable {
        public var image: Int, dependsOn: Int
        public var minimum: Version
        public init(image: Int, dependsOn: Int, minimum: Version) {
            self.image = image
            self.dependsOn = dependsOn
            self.minimum = minimum
        }
    }

    public struct BootAddresses: Sendable, Hashable {
        /// Secure and non-secure vector table addresses; nil stands for 0xFFFFFFFF (none).
        public var secure: UInt32?, nonSecure: UInt32?
        public init(secure: UInt32?, nonSecure: UInt32?) {
            self.secure = secure
            self.nonSecure = nonSecure
        }
    }

    public var names: [String]?
    public var versions: [Version]?
    public var securityCounter: UInt32?
    public var dependencies: [Dependency] = []
    public var bootAddresses: [BootAddresses]?

    public init() {}

    public var isEmpty: Bool { self == Manifest() }

    /// Parses the manifest TLVs of a container with `imageCount` images.
    init(records: [TLVRecord], imageCount: Int) throws {
        for record in records {
            func fail(_ why: String) -> ImageError {
                ImageError(.badManifest, "\(TLVType.name(record.type)): \(why)", offset: record.offset)
            }
            var r = ByteReader(record.value, base: record.offset + 8)
            // Attacker-controlled: each manifest value's length, checked against the exact size
            // its type requires before any field is read.
            switch record.type {
            case TLVType.imageNames:
                guard record.value.last == 0 else { throw fail("names must each end with NUL") }
                let parts = record.value.dropLast().split(separator: 0, omittingEmptySubsequences: false)
                guard parts.count == imageCount else { throw fail("\(parts.count) names for \(imageCount) images") }
                var names: [String] = []
                for part in parts {
                    guard !part.isEmpty, let name = String(validating: part, as: UTF8.self) else { throw fail("names must be non-empty UTF-8") }
                    names.append(name)
                }
                guard Set(names).count == names.count else { throw fail("names must be unique") }
                self.names = names
            case TLVType.imageVersions:
                guard record.value.count == 8 * imageCount else { throw fail("\(record.value.count) bytes; \(imageCount) images need \(8 * imageCount)") }
                versions = try (0..<imageCount).map { _ in Version(major: try r.u16("major"), minor: try r.u16("minor"), patch: try r.u32("patch")) }
            case TLVType.securityCounter:
                guard record.value.count == 4 else { throw fail("must be 4 bytes, not \(record.value.count)") }
                securityCounter = try r.u32("counter")
            case TLVType.dependencies:
                guard !record.value.isEmpty, record.value.count % 12 == 0 else { throw fail("must be a non-empty multiple of 12 bytes") }
                for _ in 0..<(record.value.count / 12) {
                    let image = Int(try r.u8("image")), on = Int(try r.u8("depends-on"))
                    guard try r.u16("pad") == 0 else { throw fail("padding is not zero") }
                    let minimum = Version(major: try r.u16("min major"), minor: try r.u16("min minor"), patch: try r.u32("min patch"))
                    guard image < imageCount, on < imageCount, image != on else {
                        throw fail("dependency \(image) → \(on) does not name two different images of \(imageCount)")
                    }
                    dependencies.append(Dependency(image: image, dependsOn: on, minimum: minimum))
                }
            case TLVType.bootAddresses:
                guard record.value.count == 8 * imageCount else { throw fail("\(record.value.count) bytes; \(imageCount) images need \(8 * imageCount)") }
                bootAddresses = try (0..<imageCount).map { _ in
                    let s = try r.u32("secure vector table"), ns = try r.u32("non-secure vector table")
                    return BootAddresses(secure: s == .max ? nil : s, nonSecure: ns == .max ? nil : ns)
                }
            default:
                throw fail("unknown manifest TLV type")
            }
        }
        if !dependencies.isEmpty && versions == nil {
            throw ImageError(.badManifest, "DEPENDENCIES needs IMAGE_VERSIONS to be checked against")
        }
    }

    /// Every dependency satisfied by the bundle's own image versions.
    public func checkDependencies() throws {
        guard let versions else { return }
        for d in dependencies where versions[d.dependsOn] < d.minimum {
            let label = { (i: Int) in self.names.map { "\($0[i]) (image \(i))" } ?? "image \(i)" }
            throw ImageError(.dependencyUnmet, "\(label(d.image)) needs \(label(d.dependsOn)) ≥ \(d.minimum); the bundle has \(versions[d.dependsOn])", image: d.image)
        }
    }

    /// The TLV records for this manifest, in type order (what the signer writes).
    public func records() -> [(UInt32, [UInt8])] {
        var out: [(UInt32, [UInt8])] = []
        if let names { out.append((TLVType.imageNames, names.flatMap { Array($0.utf8) + [0] })) }
        if let versions {
            var v: [UInt8] = []
            for version in versions { v.appendLE16(version.major); v.appendLE16(version.minor); v.appendLE32(version.patch) }
            out.append((TLVType.imageVersions, v))
        }
        if let securityCounter {
            var v: [UInt8] = []
            v.appendLE32(securityCounter)
            out.append((TLVType.securityCounter, v))
        }
        if !dependencies.isEmpty {
            var v: [UInt8] = []
            for d in dependencies {
                v.append(UInt8(d.image)); v.append(UInt8(d.dependsOn)); v.appendLE16(0)
                v.appendLE16(d.minimum.major); v.appendLE16(d.minimum.minor); v.appendLE32(d.minimum.patch)
            }
            out.append((TLVType.dependencies, v))
        }
        if let bootAddresses {
            var v: [UInt8] = []
            for b in bootAddresses { v.appendLE32(b.secure ?? .max); v.appendLE32(b.nonSecure ?? .max) }
            out.append((TLVType.bootAddresses, v))
        }
        return out
    }
}
