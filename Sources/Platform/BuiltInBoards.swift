/// The built-in boards' JSON, compiled in. The schema is the one `--board FILE` reads (README,
/// "Platform files"); `PlatformFileTests.builtInBoards` decodes both.
enum BuiltInBoards {
    static let names = ["stm32mp15", "stm32mp25"]

    static func source(_ name: String) -> String? {
        switch name {
        case "stm32mp15": stm32mp15
        case "stm32mp25": stm32mp25
        default: nil
        }
    }

    static let stm32mp15 = #"""
    {
      "name": "stm32mp15",
      "description": "STM32MP15-like board: one Cortex-M4 and the IPCC mailbox between it and Linux (channels 1 and 2 kick vring0 and vring1, 3 asks for shutdown). MCUSRAM (384 KiB at DA 0x10000000 / PA 0x30000000) is split as ST's device trees split it: 256 KiB (SRAM1+2) for firmware, 128 KiB (SRAM3+4) shared for IPC (vrings, rpmsg buffers).",
      "coprocessors": [
        {
          "id": 0,
          "name": "m4",
          "core": "cortex-m4",
          "mailbox": {
            "deviceAddress": "0x4c001000",
            "channels": 6,
            "rxIRQ": 103,
            "txIRQ": 104
          },
          "elfMachines": [
            40
          ],
          "regions": [
            {
              "name": "RETRAM",
              "deviceAddress": "0x0",
              "physicalAddress": "0x38000000",
              "size": "0x10000",
              "loadable": true,
              "shared": false,
              "firewall": {
                "default": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "load": {
                  "normal": "",
                  "coprocessor": ""
                },
                "running": {
                  "normal": "",
                  "coprocessor": "rwx"
                }
              }
            },
            {
              "name": "MCUSRAM",
              "deviceAddress": "0x10000000",
              "physicalAddress": "0x30000000",
              "size": "0x40000",
              "loadable": true,
              "shared": false,
              "firewall": {
                "default": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "load": {
                  "normal": "",
                  "coprocessor": ""
                },
                "running": {
                  "normal": "",
                  "coprocessor": "rwx"
                }
              }
            },
            {
              "name": "MCUSRAM-IPC",
              "deviceAddress": "0x10040000",
              "physicalAddress": "0x30040000",
              "size": "0x20000",
              "loadable": false,
              "shared": true,
              "firewall": {
                "default": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "load": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "running": {
                  "normal": "rw",
                  "coprocessor": "rw"
                }
              }
            }
          ]
        }
      ]
    }
    """#

    static let stm32mp25 = #"""
    {
      "name": "stm32mp25",
      "description": "STM32MP25-like board: one Cortex-M33 running a TF-M secure image from secure SRAM and a Zephyr non-secure image from DDR, with an IPC region in DDR.",
      "coprocessors": [
        {
          "id": 0,
          "name": "m33",
          "core": "cortex-m33",
          "elfMachines": [
            40
          ],
          "regions": [
            {
              "name": "S-SRAM",
              "deviceAddress": "0xe080000",
              "physicalAddress": "0xe080000",
              "size": "0x30000",
              "loadable": true,
              "shared": false,
              "secure": true,
              "firewall": {
                "default": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "load": {
                  "normal": "",
                  "coprocessor": ""
                },
                "running": {
                  "normal": "",
                  "coprocessor": "rwx"
                }
              }
            },
            {
              "name": "NS-DDR",
              "deviceAddress": "0x80000000",
              "physicalAddress": "0x90000000",
              "size": "0xc0000",
              "loadable": true,
              "shared": false,
              "firewall": {
                "default": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "load": {
                  "normal": "",
                  "coprocessor": ""
                },
                "running": {
                  "normal": "",
                  "coprocessor": "rwx"
                }
              }
            },
            {
              "name": "IPC-DDR",
              "deviceAddress": "0x81000000",
              "physicalAddress": "0x91000000",
              "size": "0x10000",
              "loadable": false,
              "shared": true,
              "firewall": {
                "default": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "load": {
                  "normal": "rw",
                  "coprocessor": ""
                },
                "running": {
                  "normal": "rw",
                  "coprocessor": "rw"
                }
              }
            }
          ]
        }
      ]
    }
    """#
}
