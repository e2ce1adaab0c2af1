using System.Buffers.Binary;
using System.Runtime.InteropServices;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>The PIO data phase: the only code that touches the buffer data port (0x20).</content>
public sealed partial class SdhciHost<TBus>
{
    /// <summary>PIO: one block through the data port per Buffer Read (Write) Ready, then Transfer Complete.</summary>
    private void RunPioDataPhase(Context context, SdhciDataTransfer data)
    {
        var read = data.Direction == SdhciTransferDirection.Read;
        var ready = read ? I.BufferReadReady : I.BufferWriteReady;
        var words = data.BlockSize / 4;
        for (var block = 0; block < data.BlockCount; block++)
        {
            WaitFor(context, ready, Options.DataTimeout, read ? "Buffer Read Ready" : "Buffer Write Ready");
            var span = data.Buffer.Span.Slice(block * data.BlockSize, data.BlockSize);
            // The data port is touched here and nowhere else: each access moves four bytes of card data,
            // little-endian (byte 0 of the block in bits 7:0). One block per call, one load or store per word.
            if (BitConverter.IsLittleEndian)
            {
                var values = MemoryMarshal.Cast<byte, uint>(span);
                if (read)
                    _regs.ReadRepeated(S.BufferDataPort, values);
                else
                    _regs.WriteRepeated(S.BufferDataPort, values);
            }
            else
            {
                for (var word = 0; word < words; word++)
                {
                    if (read)
                        BinaryPrimitives.WriteUInt32LittleEndian(span[(word * 4)..], _regs.Read(S.BufferDataPort));
                    else
                        _regs.Write(S.BufferDataPort, BinaryPrimitives.ReadUInt32LittleEndian(span[(word * 4)..]));
                }
            }
        }

        WaitFor(context, I.TransferComplete, Options.DataTimeout, "Transfer Complete");
    }
}
