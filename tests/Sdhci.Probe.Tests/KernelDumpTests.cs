using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

public class KernelDumpTests
{
    /// <summary>
    /// A ZCU102 controller in the middle of an ADMA2 multi-block read (CMD18), every register holding
    /// a value of its own, so a line that prints the wrong register, the wrong half or the wrong
    /// width cannot pass.
    /// </summary>
    internal static FakeSdhciController BusyZcu102(int backedLength = 0x1000)
    {
        var fake = FakeSdhciController.Zcu102(backedLength);
        fake.Set32(0x00, 0x11223344);
        fake.Set16(0x04, 0x7200);
        fake.Set16(0x06, 0x0008);
        fake.Set32(0x08, 0x000001aa);
        fake.Set16(0x0C, 0x0037);
        fake.Set16(0x0E, 0x123a);
        fake.Set32(0x10, 0x00000900);
        fake.Set32(0x14, 0xa1a2a3a4);
        fake.Set32(0x18, 0xb1b2b3b4);
        fake.Set32(0x1C, 0xc1c2c3c4);
        fake.Set32(0x20, 0xdeadbeef); // card data waiting in the FIFO: must never be read
        fake.Set32(0x24, 0x01ff0206);
        fake.Set8(0x28, 0x12);
        fake.Set8(0x29, 0x0f);
        fake.Set8(0x2A, 0x08);
        fake.Set8(0x2B, 0x04);
        fake.Set16(0x2C, 0x7d07);
        fake.Set8(0x2E, 0x0e);
        fake.Set16(0x30, 0x8001);
        fake.Set16(0x32, 0x0001);
        fake.Set16(0x34, 0x01fb);
        fake.Set16(0x36, 0x03ff);
        fake.Set16(0x38, 0x00cb);
        fake.Set16(0x3A, 0x027f);
        fake.Set16(0x3C, 0x0002);
        fake.Set16(0x3E, 0x0001);
        fake.Set32(0x48, 0x00000032);
        fake.Set16(0x50, 0xabcd); // write-only force event registers: whatever is here must not be read
        fake.Set16(0x52, 0xabcd);
        fake.Set8(0x54, 0x01);
        fake.Set64(0x58, 0x0000000112345000);
        ushort[] presets = [0x007d, 0x0002, 0x0001, 0x4004, 0x0002, 0x0001, 0x0000, 0x0002];
        for (var i = 0; i < presets.Length; i++)
            fake.Set16(0x60 + (2 * i), presets[i]);
        fake.Set32(0x78, 0x00000001);
        fake.Set16(0xFC, 0x0001);
        return fake;
    }

    private static readonly string[] BusyZcu102KernelBlock =
    [
        "============ SDHCI REGISTER DUMP ===========",
        "Sys addr:  0x11223344 | Version:  0x00002402",
        "Blk size:  0x00007200 | Blk cnt:  0x00000008",
        "Argument:  0x000001aa | Trn mode: 0x00000037",
        "Present:   0x01ff0206 | Host ctl: 0x00000012",
        "Power:     0x0000000f | Blk gap:  0x00000008",
        "Wake-up:   0x00000004 | Clock:    0x00007d07",
        "Timeout:   0x0000000e | Int stat: 0x00018001",
        "Int enab:  0x03ff01fb | Sig enab: 0x027f00cb",
        "ACmd stat: 0x00000002 | Slot int: 0x00000001",
        "Caps:      0x37ec6481 | Caps_1:   0x00002807",
        "Cmd:       0x0000123a | Max curr: 0x00000032",
        "Resp[0]:   0x00000900 | Resp[1]:  0xa1a2a3a4",
        "Resp[2]:   0xb1b2b3b4 | Resp[3]:  0xc1c2c3c4",
        "Host ctl2: 0x00000001",
        "ADMA Err:  0x00000001 | ADMA Ptr: 0x0000000112345000",
        "============================================",
    ];

    [Fact]
    public void Zcu102_dump_has_the_kernel_layout_line_for_line_then_the_registers_the_kernel_leaves_out()
    {
        var snapshot = SdhciDump.Read(BusyZcu102(), SdhciDumpOptions.Arasan);

        var lines = SdhciDump.FormatKernel(snapshot).Split('\n');

        string[] expected =
        [
            .. BusyZcu102KernelBlock,
            "============ SDHCI 3.00 REGISTERS NOT IN THE KERNEL DUMP ===========",
            "0x060 Preset Value For Initialization:           0x0000007d",
            "0x062 Preset Value For Default Speed:            0x00000002",
            "0x064 Preset Value For High Speed:               0x00000001",
            "0x066 Preset Value For SDR12:                    0x00004004",
            "0x068 Preset Value For SDR25:                    0x00000002",
            "0x06a Preset Value For SDR50:                    0x00000001",
            "0x06c Preset Value For SDR104:                   0x00000000",
            "0x06e Preset Value For DDR50:                    0x00000002",
            "0x0e0 Shared Bus Control:                        0x00000000",
            "============================================",
            "============ ARASAN VENDOR REGISTERS ===========",
            "0x078 Arasan Vendor Register:                    0x00000001",
            "============================================",
            "",
        ];
        Assert.Equal(expected, lines);
    }

    [Fact]
    public void Host_name_prefixes_every_line_as_a_kernel_log_does()
    {
        var snapshot = SdhciDump.Read(BusyZcu102());

        var lines = SdhciDump.FormatKernel(snapshot, hostName: "mmc0").TrimEnd('\n').Split('\n');

        Assert.All(lines, line => Assert.StartsWith("mmc0: sdhci: ", line, StringComparison.Ordinal));
        Assert.Equal(BusyZcu102KernelBlock.Select(l => "mmc0: sdhci: " + l), lines.Take(BusyZcu102KernelBlock.Length));
    }

    [Fact]
    public void Spec_2_controller_without_64_bit_bus_gets_the_32_bit_ADMA_line()
    {
        var fake = FakeSdhciController.SdhciPci();
        fake.Set8(0x54, 0x02);
        fake.Set64(0x58, 0x0000000700001000); // the high half must not show: the kernel prints 32 bits here

        var lines = SdhciDump.FormatKernel(SdhciDump.Read(fake)).Split('\n');

        Assert.Contains("ADMA Err:  0x00000002 | ADMA Ptr: 0x00001000", lines);
        Assert.Contains("Caps:      0x057834b4 | Caps_1:   0x00000000", lines);
        Assert.Contains("Sys addr:  0x00000000 | Version:  0x00002401", lines);
    }

    [Fact]
    public void Without_ADMA2_the_kernel_block_has_no_ADMA_line_and_the_extra_block_carries_the_ADMA_registers()
    {
        var fake = FakeSdhciController.Zcu102();
        fake.Set64(0x40, 0x280737ec6481 & ~(1UL << 19)); // ADMA2 Support cleared
        fake.Set64(0x58, 0x0000000112345000);

        var lines = SdhciDump.FormatKernel(SdhciDump.Read(fake)).Split('\n').ToList();

        Assert.DoesNotContain(lines, l => l.StartsWith("ADMA Err:", StringComparison.Ordinal));
        var hostControl2 = lines.IndexOf("Host ctl2: 0x00000000");
        Assert.Equal("============================================", lines[hostControl2 + 1]);
        Assert.Contains("0x054 ADMA Error Status:                         0x00000000", lines);
        Assert.Contains("0x058 ADMA System Address:                       0x0000000112345000", lines);
    }

    [Fact]
    public void Command_queue_engine_block_follows_the_kernel_cqhci_layout_when_asked_for()
    {
        var fake = BusyZcu102();
        fake.Set32(0x200, 0x00000510); // CQHCI version 5.10
        fake.Set32(0x204, 0x000030c8);
        fake.Set32(0x208, 0x00001101);
        fake.Set32(0x25C, 0x00000900);

        var text = SdhciDump.FormatKernel(SdhciDump.Read(fake, new SdhciDumpOptions { ArasanCqe = true }), hostName: "mmc1");
        var lines = text.TrimEnd('\n').Split('\n');

        var start = Array.IndexOf(lines, "mmc1: cqhci: ============ CQHCI REGISTER DUMP ===========");
        Assert.True(start > 0, text);
        Assert.Equal("mmc1: cqhci: Caps:      0x000030c8 | Version:  0x00000510", lines[start + 1]);
        Assert.Equal("mmc1: cqhci: Config:    0x00001101 | Control:  0x00000000", lines[start + 2]);
        Assert.Equal("mmc1: cqhci: Resp idx:  0x00000000 | Resp arg: 0x00000900", lines[start + 11]);
        Assert.Equal("mmc1: cqhci: ============================================", lines[start + 12]);
        Assert.Equal(start + 13, lines.Length);
    }
}
