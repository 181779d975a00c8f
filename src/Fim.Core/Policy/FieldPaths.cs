namespace Fim.Core.Policy;

/// <summary>Builds and describes field paths such as "paths[0].exclude[2]".</summary>
internal static class FieldPaths
{
    public static string Member(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    public static string Item(string list, int index) => $"{list}[{index}]";

    /// <summary>An entry of a string map: selector["kubernetes.io/os"].</summary>
    public static string Entry(string map, string key) => $"{map}[\"{key}\"]";

    public static string Parent(string path)
    {
        if (path.EndsWith(']'))
        {
            var open = path.LastIndexOf('[');
            if (open > 0)
            {
                return path[..open];
            }
        }
        var dot = path.LastIndexOf('.');
        return dot < 0 ? "" : path[..dot];
    }

    /// <summary>"'recursive' in paths[0]" for a nested field, "'name'" for a top-level one.</summary>
    public static string Describe(string path)
    {
        var dot = LastMemberDot(path);
        return dot < 0 ? $"'{path}'" : $"'{path[(dot + 1)..]}' in {path[..dot]}";
    }

    /// <summary>"paths[0]" for a nested mapping, "the top level" for the document itself.</summary>
    public static string DescribeContainer(string path) => path.Length == 0 ? "the top level" : path;

    private static int LastMemberDot(string path)
    {
        // Dots inside brackets, as in selector["kubernetes.io/os"], do not separate members.
        var depth = 0;
        for (var i = path.Length - 1; i >= 0; i--)
        {
            switch (path[i])
            {
                case ']':
                    depth++;
                    break;
                case '[':
                    depth--;
                    break;
                case '.' when depth == 0:
                    return i;
            }
        }
        return -1;
    }
}
