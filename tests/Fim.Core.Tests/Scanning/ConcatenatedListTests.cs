using Fim.Core.Scanning;

namespace Fim.Core.Tests.Scanning;

/// <summary>Issue 20: a scan's updates are its workers' lists read as one; indexing and enumeration must see them in order.</summary>
public class ConcatenatedListTests
{
    [Fact]
    public void ReadsThePartsInOrderSkippingEmptyOnes()
    {
        var list = new ConcatenatedList<int>([[], [0, 1, 2], [], [3], [4, 5], []]);

        Assert.Equal(6, list.Count);
        Assert.Equal([0, 1, 2, 3, 4, 5], list);
        for (var i = 0; i < list.Count; i++)
        {
            Assert.Equal(i, list[i]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => list[6]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[-1]);
    }

    [Fact]
    public void NoPartsIsEmpty()
    {
        var list = new ConcatenatedList<string>([[], []]);
        Assert.Empty(list);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[0]);
    }
}
