namespace Fim.Operator.Tests.Support;

internal static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FimOperator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FimOperator.sln not found above " + AppContext.BaseDirectory);
    }
}
