using MiniNet.Layers;

namespace MiniNet.Tests.Layers;

/// <summary>A module or parameter kept in a field but never registered is an error the first time the model is listed,
/// naming the field; deliberate exceptions are marked <see cref="NotRegisteredAttribute"/>.</summary>
[TestFixture]
public class RegistrationTests
{
    private sealed class Forgetful : Module
    {
        private readonly Dense _fc1;
        public Forgetful() => _fc1 = new Dense(3, 3);   // never registered
        public override Tensor Forward(Tensor x) => _fc1.Forward(x);
    }

    private sealed class ForgetfulParameter : Module
    {
        public ForgetfulParameter() => Scale = new Parameter(Tensor.Ones(3));
        public Parameter Scale { get; }
        public override Tensor Forward(Tensor x) => x * Scale;
    }

    private sealed class ForgetfulList : Module
    {
        private readonly List<Module> _layers = [];
        public ForgetfulList()
        {
            _layers.Add(RegisterModule("first", new Dense(3, 3)));
            _layers.Add(new Dropout());   // in the list, but not registered: Eval() would not reach it
        }
        public override Tensor Forward(Tensor x) => _layers.Aggregate(x, (h, m) => m.Forward(h));
    }

    private sealed class Deliberate : Module
    {
        public Deliberate(Module teacher)
        {
            Student = RegisterModule("student", new Dense(3, 3));
            Teacher = teacher;
            Tied = Student.Weight;                // a registered parameter under another name: fine
            Chain = [Student, RegisterModule("relu", new ReLU())];
        }
        public Dense Student { get; }
        [NotRegistered] public Module Teacher { get; }
        public Parameter Tied { get; }
        public Module[] Chain { get; }
        public override Tensor Forward(Tensor x) => Fusion.Forward(x, Chain);
    }

    [Test]
    public void AnUnregisteredChildModule_IsRefused_NamingTheField()
    {
        var model = new Sequential(new Forgetful());
        var e = Assert.Throws<InvalidOperationException>(() => _ = model.Parameters().ToList());
        Assert.That(e!.Message, Does.Contain("Forgetful").And.Contain("field '_fc1'").And.Contain("Dense").And.Contain("RegisterModule(\"fc1\""));
        Assert.Throws<InvalidOperationException>(() => model.StateDict());
        Assert.Throws<InvalidOperationException>(() => model.Eval());
        Assert.Throws<InvalidOperationException>(() => new MiniNet.Optim.SGD(model.Parameters(), 0.1f));
    }

    [Test]
    public void AnUnregisteredParameterOrListElement_IsRefused_NamingTheField()
    {
        Assert.That(Assert.Throws<InvalidOperationException>(() => new ForgetfulParameter().StateDict())!.Message,
            Does.Contain("field 'Scale'").And.Contain("Parameter").And.Contain("RegisterParameter(\"Scale\""));
        Assert.That(Assert.Throws<InvalidOperationException>(() => new ForgetfulList().Train())!.Message,
            Does.Contain("field '_layers'").And.Contain("Dropout"));
    }

    [Test]
    public void MarkedFields_TiedParametersAndArraysOfRegisteredModules_AreFine()
    {
        var teacher = new Dense(3, 3);
        var model = new Deliberate(teacher);
        Assert.That(model.Parameters().Count(), Is.EqualTo(2), "the student's weight and bias; the teacher is not part of it");
        model.Eval();
        Assert.That(teacher.Training, Is.True, "Eval does not reach a module outside the model");
        Assert.That(model.Summary(2, 3).Modules, Has.Count.EqualTo(3));
    }
}
